"""Chat history in the workspace: saved as it happens, survives restarts and kills, regenerate, edit, export."""

# ruff: noqa: F811  (pytest fixtures imported from the support module, then requested by name)
from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from desktop.core.chat import history as h
from desktop.core.chat.export import conversation_markdown
from desktop.core.chat.persist import StreamingSaver
from desktop.core.chat.session import (
    DISCLAIMER,
    ChatSettings,
    finish_turn,
    prepare_edit,
    prepare_regenerate,
    prepare_send,
    run_turn,
)
from desktop.core.llm.engine import Engine
from desktop.core.trained import patient_context
from desktop.core.workspace.executor import WorkspaceExecutor
from desktop.core.workspace.store import Store, open_store
from tests.core.llm_support import PATIENT, engine, model_path, store, workspace  # noqa: F401  (fixtures)

SETTINGS = ChatSettings(n_threads=1, n_ctx=2048, temperature=0.0, max_tokens=40)
DONE = ("complete", "truncated")  # an answer may reach max tokens
REPO = Path(__file__).resolve().parents[2]


def _turn(store: Store, engine: Engine, conv: int, text: str) -> str:
    req = prepare_send(store, conversation_id=conv, user_text=text, model_name="m",
                       context_text=patient_context(store, PATIENT), settings=SETTINGS)
    db = WorkspaceExecutor(store)
    saver = StreamingSaver(db, lambda st, t: h.update_message_text(st, message_id=req.message_id, content=t))
    result = run_turn(engine, req, on_text=lambda _t: None, saver=saver)
    db.shutdown(close_store=False)
    finish_turn(store, result)
    return result.text


def test_history_survives_a_restart(workspace: Path, engine: Engine) -> None:
    with open_store(workspace) as s:
        conv = h.create_conversation(s, patient_id=PATIENT).conversation_id
        answer = _turn(s, engine, conv, "What is the latest heart rate?")
        other = h.create_conversation(s, patient_id=PATIENT).conversation_id
    with open_store(workspace) as s:  # a new process would see the same: the file is all there is
        msgs = h.active_messages(s, conversation_id=conv)
        assert [m.role for m in msgs] == ["user", "assistant"] and msgs[1].status in DONE
        assert msgs[0].content == "What is the latest heart rate?" and msgs[1].content == answer
        assert msgs[1].completion_tokens and msgs[1].tokens_per_s and msgs[1].ttft_s
        convs = h.list_conversations(s, patient_id=PATIENT)
        assert {c.conversation_id for c in convs} == {conv, other}
        assert next(c for c in convs if c.conversation_id == conv).title == "What is the latest heart rate?"


def test_the_streaming_saver_writes_the_latest_text_and_never_queues(store: Store) -> None:
    conv = h.create_conversation(store, patient_id=PATIENT).conversation_id
    msg = h.add_message(store, conversation_id=conv, role="assistant", content="", status="generating")
    db = WorkspaceExecutor(store)
    saver = StreamingSaver(db, lambda st, t: h.update_message_text(st, message_id=msg.message_id, content=t))
    text = ""
    for i in range(300):
        text += f"w{i} "
        saver.update(text)
    saver.drain()
    assert saver.writes <= 300
    saver.update(text)  # the last text always lands
    saver.drain()
    db.shutdown(close_store=False)
    assert h.active_messages(store, conversation_id=conv)[0].content == text


def test_regenerate_and_edit_supersede_but_keep_the_old_messages(store: Store, engine: Engine) -> None:
    conv = h.create_conversation(store, patient_id=PATIENT).conversation_id
    _turn(store, engine, conv, "What is the latest heart rate?")
    ctx = patient_context(store, PATIENT)
    req = prepare_regenerate(store, conversation_id=conv, model_name="m", context_text=ctx, settings=SETTINGS)
    finish_turn(store, run_turn(engine, req, on_text=lambda _t: None))
    active = h.active_messages(store, conversation_id=conv)
    assert [m.role for m in active] == ["user", "assistant"] and active[1].message_id == req.message_id
    first_user = active[0].message_id
    req = prepare_edit(store, conversation_id=conv, message_id=first_user, new_text="And the blood pressure?",
                       model_name="m", context_text=ctx, settings=SETTINGS)
    finish_turn(store, run_turn(engine, req, on_text=lambda _t: None))
    active = h.active_messages(store, conversation_id=conv)
    assert active[0].content == "And the blood pressure?" and len(active) == 2
    total = store.con.execute("SELECT count(*) FROM messages WHERE conversation_id = ?", [conv]).fetchone()[0]
    assert total == 5  # the first question and both earlier answers superseded, not erased


def test_export_as_markdown(store: Store, engine: Engine) -> None:
    conv = h.create_conversation(store, patient_id=PATIENT).conversation_id
    answer = _turn(store, engine, conv, "Summarise the blood pressure.")
    md = conversation_markdown(store, conversation_id=conv)
    assert md.startswith("# Summarise the blood pressure.")
    assert "## Clinician" in md and "## Assistant (m)" in md and answer.strip() in md and DISCLAIMER in md


def test_a_kill_mid_answer_loses_at_most_the_token_being_written(workspace: Path) -> None:
    env = dict(os.environ, PYTHONUNBUFFERED="1")
    proc = subprocess.Popen(
        [sys.executable, "-m", "desktop.cli_chat", "--workspace", str(workspace), "--patient", PATIENT,
         "--max-tokens", "1000", "--temperature", "0", "--quiet", "--threads", "1",
         "Write a very long, detailed essay about blood pressure."],
        cwd=REPO, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    printed = b""
    assert proc.stdout is not None
    deadline = time.monotonic() + 120
    # Read until the answer is well under way, then kill -9: no chance to save anything on the way out.
    while len(printed) < 200 and time.monotonic() < deadline:
        chunk = os.read(proc.stdout.fileno(), 4096)
        if not chunk:
            break
        printed += chunk
    proc.send_signal(signal.SIGKILL)
    rest, _err = proc.communicate(timeout=30)
    printed += rest
    assert proc.returncode == -signal.SIGKILL and len(printed) >= 200, _err.decode(errors="replace")[-2000:]
    with open_store(workspace) as s:
        [conv] = h.list_conversations(s, patient_id=PATIENT)
        _question, answer = h.active_messages(s, conversation_id=conv.conversation_id)
        assert answer.status == "generating"  # as the kill left it
        text = printed.decode("utf-8", errors="ignore")
        assert answer.content and text.startswith(answer.content)
        missing = text[len(answer.content):]
        # The saver trails the model by at most the tokens made during one DuckDB write (~1.4 ms): a token
        # or two. Allow a few words of slack for a loaded CI machine.
        assert len(missing) <= 40, f"lost {len(missing)} characters: {missing!r}"
        assert h.recover_interrupted(s) == 1
        assert h.active_messages(s, conversation_id=conv.conversation_id)[1].status == "interrupted"
