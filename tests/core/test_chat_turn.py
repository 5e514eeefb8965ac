"""The chat turn written once (desktop/core/chat/turn.py), driven through the workspace executor the CLI
and the window use, with the real default model."""

# ruff: noqa: F811  (pytest fixtures imported from the support module, then requested by name)
from __future__ import annotations

import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from desktop.core.chat import history as h
from desktop.core.chat.session import ChatSettings
from desktop.core.chat.turn import EditResend, Regenerate, Send, chat_turn, warm_turn
from desktop.core.llm.engine import Engine
from desktop.core.workspace.executor import WorkspaceExecutor
from desktop.core.workspace.store import open_store
from tests.core.llm_support import PATIENT, engine, model_path, workspace  # noqa: F401  (fixtures)

SETTINGS = ChatSettings(n_threads=1, n_ctx=2048, temperature=0.0, max_tokens=24)


@pytest.fixture
def db(workspace: Path) -> Iterator[WorkspaceExecutor]:
    executor = WorkspaceExecutor(open_store(workspace))
    yield executor
    executor.shutdown()
    assert not executor._pool._threads or all(not t.is_alive() for t in executor._pool._threads)


def _never_loaded() -> Engine:
    raise AssertionError("the model must not be loaded for a turn that cannot start")


def test_a_turn_streams_and_saves_what_it_streamed(db: WorkspaceExecutor, engine: Engine) -> None:
    pieces: list[str] = []
    turn = chat_turn(db=db, get_engine=lambda: engine, patient_id=PATIENT, action=Send("Latest heart rate?"),
                     model_name="m", settings=SETTINGS, on_text=pieces.append,
                     build_context=lambda store, patient: f"Patient {patient}: heart rate 72 /min on 2024-01-02.")
    assert turn.result.status in ("complete", "truncated") and turn.result.text
    msgs = db.call(lambda store: h.active_messages(store, conversation_id=turn.conversation_id)).result()
    assert [m.role for m in msgs] == ["user", "assistant"]
    assert msgs[0].content == "Latest heart rate?" and msgs[1].content == "".join(pieces) == turn.result.text
    context = db.call(lambda store: store.con.execute(
        "SELECT context_summary FROM messages WHERE message_id = ?", [msgs[1].message_id]).fetchone()).result()
    assert context == (f"Patient {PATIENT}: heart rate 72 /min on 2024-01-02.",)  # the builder's facts
    again = chat_turn(db=db, get_engine=lambda: engine, patient_id=PATIENT, action=Send("And the one before?"),
                      model_name="m", settings=SETTINGS, on_text=lambda _t: None,
                      conversation_id=turn.conversation_id)
    assert again.conversation_id == turn.conversation_id
    assert len(db.call(lambda s: h.active_messages(s, conversation_id=turn.conversation_id)).result()) == 4


def test_an_unknown_patient_fails_before_the_model_loads_and_writes_nothing(db: WorkspaceExecutor) -> None:
    with pytest.raises(LookupError):
        chat_turn(db=db, get_engine=_never_loaded, patient_id="no-such-patient", action=Send("?"), model_name="m",
                  settings=SETTINGS, on_text=lambda _t: None)
    assert db.call(lambda s: s.con.execute("SELECT count(*) FROM conversations").fetchone()).result() == (0,)


def test_a_conversation_about_another_patient_is_refused(db: WorkspaceExecutor) -> None:
    other = db.call(lambda s: h.create_conversation(s, patient_id="someone-else").conversation_id).result()
    with pytest.raises(LookupError, match="another patient"):
        chat_turn(db=db, get_engine=_never_loaded, patient_id=PATIENT, action=Send("?"), model_name="m",
                  settings=SETTINGS, on_text=lambda _t: None, conversation_id=other)
    assert db.call(lambda s: s.con.execute("SELECT count(*) FROM messages").fetchone()).result() == (0,)


def test_warming_caches_the_patient_prefix_and_the_turns_reuse_it(db: WorkspaceExecutor, engine: Engine) -> None:
    engine.llm.reset()
    cancelled = threading.Event()
    cancelled.set()
    assert warm_turn(db=db, engine=engine, patient_id=PATIENT, cancel=cancelled) == 0
    assert engine.llm.n_tokens == 0  # a cancelled warm-up evaluates nothing
    warmed = warm_turn(db=db, engine=engine, patient_id=PATIENT)
    assert warmed > 50 and engine.llm.n_tokens == warmed
    first = chat_turn(db=db, get_engine=lambda: engine, patient_id=PATIENT, action=Send("Latest heart rate?"),
                      model_name="m", settings=SETTINGS, on_text=lambda _t: None)
    stats = first.result.stats
    assert stats is not None and stats.prompt_tokens > warmed
    assert stats.reused_prompt_tokens >= warmed - 1  # only the question was evaluated
    follow = chat_turn(db=db, get_engine=lambda: engine, patient_id=PATIENT, action=Send("And the one before?"),
                       model_name="m", settings=SETTINGS, on_text=lambda _t: None,
                       conversation_id=first.conversation_id)
    assert follow.result.stats is not None
    assert follow.result.stats.reused_prompt_tokens >= stats.prompt_tokens - 1  # the earlier turn is a prefix


def test_regenerate_and_edit_run_through_the_same_turn(db: WorkspaceExecutor, engine: Engine) -> None:
    first = chat_turn(db=db, get_engine=lambda: engine, patient_id=PATIENT, action=Send("Latest heart rate?"),
                      model_name="m", settings=SETTINGS, on_text=lambda _t: None)
    cid = first.conversation_id
    with pytest.raises(ValueError, match="need a conversation"):
        chat_turn(db=db, get_engine=lambda: engine, patient_id=PATIENT, action=Regenerate(), model_name="m",
                  settings=SETTINGS, on_text=lambda _t: None)
    again = chat_turn(db=db, get_engine=lambda: engine, patient_id=PATIENT, action=Regenerate(), model_name="m",
                      settings=SETTINGS, on_text=lambda _t: None, conversation_id=cid)
    msgs = db.call(lambda s: h.active_messages(s, conversation_id=cid)).result()
    assert [m.role for m in msgs] == ["user", "assistant"] and msgs[1].message_id == again.result.message_id
    edited = chat_turn(db=db, get_engine=lambda: engine, patient_id=PATIENT,
                       action=EditResend(msgs[0].message_id, "Latest temperature?"), model_name="m",
                       settings=SETTINGS, on_text=lambda _t: None, conversation_id=cid)
    msgs = db.call(lambda s: h.active_messages(s, conversation_id=cid)).result()
    assert [m.content for m in msgs][:1] == ["Latest temperature?"]
    assert msgs[1].message_id == edited.result.message_id and len(msgs) == 2


# ------------------------------------------------------------------------------------ ask_turn, its callers
def _spy(monkeypatch: pytest.MonkeyPatch, module: object) -> list[dict[str, object]]:
    """Wrap the ``ask_turn`` a caller's module calls, recording each call (the real one still runs)."""
    from desktop.core.chat import ask_turn as asking

    calls: list[dict[str, object]] = []

    def spy(**kwargs: object) -> asking.AskResult:
        calls.append(kwargs)
        return asking.ask_turn(**kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(module, "ask_turn", spy)
    return calls


def test_a_computed_question_is_parsed_computed_saved_and_audited_with_no_model(db: WorkspaceExecutor) -> None:
    from desktop.core.chat.ask_turn import Computed, Parsed, ask_turn
    from desktop.core.workspace.audit import read_audit

    events: list[object] = []
    result = ask_turn(db=db, question="What is the latest heart rate?", patient_id=PATIENT, settings=SETTINGS,
                      model_name="m", chat_engine=_never_loaded, planner=_never_loaded, on_event=events.append)
    assert result.answer.computed and result.chat is None and result.planned is None
    assert [type(e) for e in events] == [Parsed, Computed]
    msgs = db.call(lambda s: h.active_messages(s, conversation_id=result.conversation_id)).result()
    assert [m.role for m in msgs] == ["user", "assistant"]
    entries = db.call(read_audit).result()
    assert [(e.action, e.patient_id) for e in entries][-1:] == [("question_asked", PATIENT)]


def test_the_model_plans_only_when_the_parser_is_unsure(db: WorkspaceExecutor) -> None:
    from desktop.core.assistant.ask import parse_question
    from desktop.core.chat.ask_turn import model_should_plan

    def parsed(q: str, pid: str | None = PATIENT):  # type: ignore[no-untyped-def]
        return db.call(lambda s: parse_question(s, question=q, patient_id=pid)).result()

    assert model_should_plan(parsed("how high has her systolic ever gone?"))      # a data plan, a word unread
    assert not model_should_plan(parsed("What is the latest heart rate?"))        # read completely
    assert not model_should_plan(parsed("Summarise this patient for a handover"))  # general: the prose model


def test_the_cli_answers_through_ask_turn(monkeypatch: pytest.MonkeyPatch, workspace: Path,
                                          capsys: pytest.CaptureFixture[str]) -> None:
    import desktop.cli_chat as cli_chat

    calls = _spy(monkeypatch, cli_chat)
    code = cli_chat.main(["--workspace", str(workspace), "--patient", PATIENT, "--quiet", "--no-model-planner",
                          "What is the latest heart rate?"])
    assert code == 0 and len(calls) == 1 and calls[0]["patient_id"] == PATIENT
    assert "heart rate" in capsys.readouterr().out.lower()


def test_the_heldout_evaluation_answers_through_ask_turn(monkeypatch: pytest.MonkeyPatch, workspace: Path) -> None:
    import benchmarks.eval_assistant_heldout as heldout

    calls = _spy(monkeypatch, heldout)
    with open_store(workspace) as store:
        report = heldout.run_heldout(store, patient_id=PATIENT, engine=None, cases=heldout.HELD_OUT[:3])
    assert len(calls) == 3 and len(report.rows) == 3
    assert all(c["record_audit"] is False and c["chat_engine"] is None for c in calls)


def test_the_chat_benchmark_answers_through_ask_turn() -> None:
    """The benchmark's CLI path and the window's worker (its in-app path) both call ask_turn."""
    import inspect

    import benchmarks.bench_chat as bench
    from desktop.ui.chat import model_worker

    assert "ask_turn(" in inspect.getsource(bench.InApp.turn)
    assert "self.worker.ask(" in inspect.getsource(bench.InApp.run)
    assert "asking.ask_turn(" in inspect.getsource(model_worker.ModelWorker._ask)
