"""Conversations and messages in the workspace. Every function takes the :class:`Store` and runs on the
caller's thread: in the app that is the one DuckDB executor, in the CLI the main thread.

Nothing is erased by regenerate or edit-and-resend: the replaced messages get ``superseded_at`` and drop
out of the active conversation, but stay in the workspace.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from desktop.core.workspace.store import Store

_MESSAGE_COLUMNS = (
    "message_id, conversation_id, position, role, content, status, created_at, updated_at, model, "
    "prompt_tokens, completion_tokens, dropped_messages, tokens_per_s, ttft_s, error, context_summary, verdict"
)


@dataclass(frozen=True)
class Conversation:
    conversation_id: int
    patient_id: str
    title: str
    created_at: datetime
    updated_at: datetime


@dataclass(frozen=True)
class Message:
    message_id: int
    conversation_id: int
    position: int
    role: str
    content: str
    status: str
    created_at: datetime
    updated_at: datetime
    model: str | None = None
    prompt_tokens: int | None = None
    completion_tokens: int | None = None
    dropped_messages: int | None = None
    tokens_per_s: float | None = None
    ttft_s: float | None = None
    error: str | None = None
    # What the answer was given or computed from: the patient summary for a model's answer; for an answer
    # DuckDB computed, its plan, SQL, facts and rows as JSON (desktop/core/chat/turn.py::computed_turn).
    context_summary: str | None = None
    verdict: str | None = None  # the verifier's JSON verdict on a model-written answer (desktop/core/assistant/verify.py)


def create_conversation(store: Store, *, patient_id: str, title: str = "New conversation") -> Conversation:
    with store.transaction() as con:
        row = con.execute(
            "INSERT INTO conversations (patient_id, title, created_at, updated_at) "
            "VALUES (?, ?, now()::TIMESTAMP, now()::TIMESTAMP) "
            "RETURNING conversation_id, patient_id, title, created_at, updated_at",
            [patient_id, title],
        ).fetchone()
    assert row is not None
    return Conversation(*row)


def get_conversation(store: Store, *, conversation_id: int) -> Conversation:
    row = store.con.execute(
        "SELECT conversation_id, patient_id, title, created_at, updated_at FROM conversations "
        "WHERE conversation_id = ?", [conversation_id]).fetchone()
    if row is None:
        raise KeyError(f"no conversation {conversation_id} in {store.path}")
    return Conversation(*row)


def list_conversations(store: Store, *, patient_id: str) -> list[Conversation]:
    """The patient's conversations, most recently active first."""
    rows = store.con.execute(
        "SELECT conversation_id, patient_id, title, created_at, updated_at FROM conversations "
        "WHERE patient_id = ? AND deleted_at IS NULL ORDER BY updated_at DESC, conversation_id DESC",
        [patient_id],
    ).fetchall()
    return [Conversation(*r) for r in rows]


def rename_conversation(store: Store, *, conversation_id: int, title: str) -> None:
    store.con.execute("UPDATE conversations SET title = ? WHERE conversation_id = ?", [title, conversation_id])


def delete_conversation(store: Store, *, conversation_id: int) -> None:
    store.con.execute("UPDATE conversations SET deleted_at = now()::TIMESTAMP WHERE conversation_id = ?",
                      [conversation_id])


def add_message(store: Store, *, conversation_id: int, role: str, content: str, status: str = "complete",
                model: str | None = None, context_summary: str | None = None) -> Message:
    """Insert a message at the end of the conversation and commit: from here on a crash cannot lose it."""
    if role not in ("user", "assistant"):
        raise ValueError(f"role must be 'user' or 'assistant', not {role!r}")
    with store.transaction() as con:
        row = con.execute(
            f"""INSERT INTO messages (conversation_id, position, role, content, status, created_at, updated_at,
                                      model, context_summary)
                SELECT ?, coalesce(max(position), -1) + 1, ?, ?, ?, now()::TIMESTAMP, now()::TIMESTAMP, ?, ?
                FROM messages WHERE conversation_id = ?
                RETURNING {_MESSAGE_COLUMNS}""",
            [conversation_id, role, content, status, model, context_summary, conversation_id],
        ).fetchone()
        con.execute("UPDATE conversations SET updated_at = now()::TIMESTAMP WHERE conversation_id = ?",
                    [conversation_id])
    assert row is not None
    return Message(*row)


def update_message_text(store: Store, *, message_id: int, content: str) -> None:
    """The streaming save: one autocommitted UPDATE (about 1.4 ms on a laptop-class disk)."""
    store.con.execute("UPDATE messages SET content = ?, updated_at = now()::TIMESTAMP WHERE message_id = ?",
                      [content, message_id])


def finish_message(store: Store, *, message_id: int, content: str, status: str,
                   prompt_tokens: int | None = None, completion_tokens: int | None = None,
                   dropped_messages: int | None = None, tokens_per_s: float | None = None,
                   ttft_s: float | None = None, error: str | None = None) -> None:
    store.con.execute(
        """UPDATE messages SET content = ?, status = ?, updated_at = now()::TIMESTAMP, prompt_tokens = ?,
               completion_tokens = ?, dropped_messages = ?, tokens_per_s = ?, ttft_s = ?, error = ?
           WHERE message_id = ?""",
        [content, status, prompt_tokens, completion_tokens, dropped_messages, tokens_per_s, ttft_s, error,
         message_id],
    )


def active_messages(store: Store, *, conversation_id: int) -> list[Message]:
    """The conversation as shown: superseded messages left out, in order."""
    rows = store.con.execute(
        f"SELECT {_MESSAGE_COLUMNS} FROM messages WHERE conversation_id = ? AND superseded_at IS NULL "
        "ORDER BY position", [conversation_id]).fetchall()
    return [Message(*r) for r in rows]


def supersede_from(store: Store, *, conversation_id: int, position: int) -> int:
    """Retire the message at ``position`` and everything after it (regenerate, edit and resend)."""
    row = store.con.execute(
        "UPDATE messages SET superseded_at = now()::TIMESTAMP WHERE conversation_id = ? AND position >= ? "
        "AND superseded_at IS NULL RETURNING message_id", [conversation_id, position]).fetchall()
    return len(row)


def recover_interrupted(store: Store) -> int:
    """Messages left 'generating' by a crash or kill keep their text and are marked 'interrupted'."""
    rows = store.con.execute(
        "UPDATE messages SET status = 'interrupted' WHERE status = 'generating' RETURNING message_id"
    ).fetchall()
    return len(rows)
