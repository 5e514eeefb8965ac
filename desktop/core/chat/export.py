"""A conversation as Markdown, for the record or a referral letter draft."""

from __future__ import annotations

from desktop.core.chat import history as h
from desktop.core.chat.session import DISCLAIMER
from desktop.core.store import Store

_STATUS_NOTE = {
    "stopped": "stopped by the user",
    "truncated": "cut short (max tokens or a full context)",
    "interrupted": "interrupted (the app closed while writing)",
    "failed": "failed",
    "generating": "still being written",
}


def conversation_markdown(store: Store, *, conversation_id: int) -> str:
    conv = h.get_conversation(store, conversation_id=conversation_id)
    msgs = h.active_messages(store, conversation_id=conversation_id)
    out = [f"# {conv.title}", "",
           f"Patient: {conv.patient_id}  ",
           f"Started: {conv.created_at:%Y-%m-%d %H:%M} UTC  ",
           f"Exported from Vitalsight. {DISCLAIMER}", ""]
    for m in msgs:
        who = "Clinician" if m.role == "user" else "Assistant" + (f" ({m.model})" if m.model else "")
        out.append(f"## {who} — {m.created_at:%Y-%m-%d %H:%M}")
        out.append("")
        out.append(m.content.strip() or "_(empty)_")
        note = _STATUS_NOTE.get(m.status)
        if note:
            out += ["", f"_Answer {note}._"]
        out.append("")
    return "\n".join(out)
