"""The chat works with the network forbidden, and nothing in the app reaches for it."""

# ruff: noqa: F811  (pytest fixtures imported from the support module, then requested by name)
from __future__ import annotations

import re
import socket
import subprocess
import sys
from pathlib import Path

import pytest

from desktop.cli_chat import main as chat_main
from desktop.core.chat import history as h
from desktop.core.chat.export import conversation_markdown
from desktop.core.workspace.store import open_store
from tests.core.llm_support import PATIENT, model_path, workspace  # noqa: F401  (fixtures)

REPO = Path(__file__).resolve().parents[2]


class NetworkForbidden(AssertionError):
    pass


def _forbid(*_a: object, **_k: object) -> None:
    raise NetworkForbidden("the chat path tried to open a network socket")


@pytest.fixture
def no_network(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(socket, "socket", _forbid)
    monkeypatch.setattr(socket, "create_connection", _forbid)
    monkeypatch.setattr(socket, "getaddrinfo", _forbid)


def test_the_whole_chat_path_runs_with_sockets_forbidden(no_network: None, workspace: Path, model_path: Path,
                                                         capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(NetworkForbidden):
        socket.socket()  # the guard is really on
    # model check, load, patient context, prompt, streaming, saving, stats: all of it
    code = chat_main(["--workspace", str(workspace), "--patient", PATIENT, "--model", str(model_path),
                      "--temperature", "0", "--max-tokens", "40", "--threads", "1",
                      "What lifestyle advice could help her?"])
    out = capsys.readouterr()
    assert code == 0, out.err
    assert out.out.strip()
    assert "tokens/s" in out.err
    with open_store(workspace) as store:
        [conv] = h.list_conversations(store, patient_id=PATIENT)
        msgs = h.active_messages(store, conversation_id=conv.conversation_id)
        # stdout: the streamed answer as saved, then what the verifier made of it
        assert out.out.lstrip().startswith(msgs[1].content.strip()) and msgs[1].status in ("complete", "truncated")
        assert "[checked against the record:" in out.out and msgs[1].verdict
        markdown = conversation_markdown(store, conversation_id=conv.conversation_id)
        assert msgs[1].content.strip()[:20] in markdown and "Checked against the record" in markdown


AUDIT = """
import sys
def hook(event, args):
    if event in ("socket.__new__", "socket.connect", "socket.getaddrinfo", "urllib.Request"):
        raise RuntimeError(f"network use: {event} {args!r}")
sys.addaudithook(hook)
from desktop.cli_chat import main
raise SystemExit(main(sys.argv[1:]))
"""


def test_a_fresh_process_never_touches_a_socket(workspace: Path, model_path: Path) -> None:
    # An audit hook also sees sockets made by imported libraries, before any test code could patch them.
    proc = subprocess.run(
        [sys.executable, "-c", AUDIT, "--workspace", str(workspace), "--patient", PATIENT, "--max-tokens", "16",
         "--threads", "1", "--quiet", "Hello"], cwd=REPO, capture_output=True, text=True, timeout=300, check=False)
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert "network use" not in proc.stderr


NETWORK_MODULES = re.compile(r"^\s*(import|from)\s+(socket|urllib|http|requests|httpx|aiohttp|ftplib|smtplib)\b",
                             re.MULTILINE)


def test_no_module_in_the_app_imports_a_network_library() -> None:
    offenders = [str(p.relative_to(REPO)) for p in (REPO / "desktop").rglob("*.py")
                 if NETWORK_MODULES.search(p.read_text(encoding="utf-8"))]
    assert offenders == []
