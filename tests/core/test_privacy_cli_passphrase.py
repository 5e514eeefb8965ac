"""The command line's passphrase sources, encrypt / change-passphrase, and the audit entries it records."""

from __future__ import annotations

import hashlib

import pytest

from desktop import cli, cli_security
from desktop.core.workspace.audit import read_audit, verify_chain
from desktop.core.workspace.crypto import create_encrypted_workspace, open_encrypted_workspace
from desktop.core.workspace.keys import ScryptParameters
from desktop.core.workspace.keyslot import file_is_encrypted, slot_path
from desktop.core.workspace.store import forget_workspace_key, open_store

FAST = ScryptParameters(n=2**16, r=8, p=1)
PASSPHRASE = "lantern by the harbour"


@pytest.fixture(autouse=True)
def _clean(monkeypatch):
    monkeypatch.delenv(cli_security.PASSPHRASE_ENV, raising=False)
    monkeypatch.delenv(cli_security.NEW_PASSPHRASE_ENV, raising=False)
    # pytest's stdin is not a terminal; tests that want the prompt say so.
    monkeypatch.setattr(cli_security, "_stdin_is_terminal", lambda: False)
    forget_workspace_key()
    yield
    forget_workspace_key()


def _encrypted(tmp_path):
    path = tmp_path / "clinic.duckdb"
    with create_encrypted_workspace(path, PASSPHRASE, parameters=FAST) as store:
        store.con.execute("INSERT INTO patients (patient_id, name) VALUES ('p-1', 'Ottoline Brackenbury')")
    forget_workspace_key()
    return path


def _actions(path):
    forget_workspace_key()
    with open_encrypted_workspace(path, PASSPHRASE) as store:
        assert verify_chain(store).ok
        return [(e.action, e.patient_id) for e in read_audit(store)]


def test_every_workspace_command_takes_a_passphrase_file_and_none_takes_the_passphrase():
    parser = cli.build_parser()
    commands = parser._subparsers._group_actions[0].choices
    with_workspace = [name for name, p in commands.items()
                      if any("--workspace" in a.option_strings for a in p._actions)]
    assert {"import", "patients", "summary", "chat", "audit", "encrypt", "change-passphrase"} <= set(with_workspace)
    for name in with_workspace:
        options = {o for a in commands[name]._actions for o in a.option_strings}
        assert "--passphrase-file" in options, name
        assert "--passphrase" not in options, name


def test_passphrase_file_opens_and_summary_is_audited(tmp_path, capsys):
    path = _encrypted(tmp_path)
    secret = tmp_path / "pass.txt"
    secret.write_text(PASSPHRASE + "\n", encoding="utf-8")
    assert cli.main(["patients", "--workspace", str(path), "--passphrase-file", str(secret)]) == 0
    assert "Ottoline Brackenbury" in capsys.readouterr().out
    forget_workspace_key()
    assert cli.main(["summary", "--workspace", str(path), "--passphrase-file", str(secret), "--patient", "p-1"]) == 0
    assert cli.main(["summary", "--workspace", str(path), "--passphrase-file", str(secret), "--patient", "p-404"]) == 1
    assert _actions(path) == [("patient_viewed", "p-1")]


def test_environment_variable_and_the_missing_passphrase_message(tmp_path, capsys, monkeypatch):
    path = _encrypted(tmp_path)
    assert cli.main(["patients", "--workspace", str(path)]) == 2
    err = capsys.readouterr().err
    assert "is encrypted" in err and "--passphrase-file" in err and "VITALSIGHT_PASSPHRASE" in err
    monkeypatch.setenv(cli_security.PASSPHRASE_ENV, PASSPHRASE)
    assert cli.main(["patients", "--workspace", str(path)]) == 0


def test_prompt_when_stdin_is_a_terminal(tmp_path, monkeypatch):
    path = _encrypted(tmp_path)
    prompts: list[str] = []
    monkeypatch.setattr(cli_security, "_stdin_is_terminal", lambda: True)
    monkeypatch.setattr(cli_security.getpass, "getpass", lambda prompt: prompts.append(prompt) or PASSPHRASE)
    assert cli.main(["patients", "--workspace", str(path)]) == 0
    assert prompts == [f"Passphrase for {path}: "]


def test_wrong_passphrase_exits_2_and_leaves_the_file_unchanged(tmp_path, capsys, monkeypatch):
    path = _encrypted(tmp_path)
    before = hashlib.sha256(path.read_bytes()).hexdigest()
    monkeypatch.setattr("desktop.core.workspace.crypto.DEFAULT_THROTTLE.sleep", lambda s: None)
    monkeypatch.setenv(cli_security.PASSPHRASE_ENV, "not the passphrase")
    assert cli.main(["summary", "--workspace", str(path), "--patient", "p-1"]) == 2
    assert "not correct" in capsys.readouterr().err
    assert hashlib.sha256(path.read_bytes()).hexdigest() == before


def test_encrypt_then_change_passphrase_from_the_command_line(tmp_path, capsys, monkeypatch):
    path = tmp_path / "plain.duckdb"
    with open_store(path) as store:
        store.con.execute("INSERT INTO patients (patient_id, name) VALUES ('p-9', 'Cressida Wolstenholme')")
    new_file = tmp_path / "new.txt"
    new_file.write_text("first passphrase here\n", encoding="utf-8")
    assert cli.main(["encrypt", "--workspace", str(path), "--new-passphrase-file", str(new_file)]) == 0
    out = capsys.readouterr().out
    assert "full-disk encryption" in out and "plain.duckdb.keyslot" in out
    assert file_is_encrypted(path) and b"Wolstenholme" not in path.read_bytes()

    forget_workspace_key()
    monkeypatch.setenv(cli_security.PASSPHRASE_ENV, "first passphrase here")
    monkeypatch.setenv(cli_security.NEW_PASSPHRASE_ENV, PASSPHRASE)
    assert cli.main(["change-passphrase", "--workspace", str(path)]) == 0
    assert "no longer opens it" in capsys.readouterr().out
    assert _actions(path) == [("workspace_encrypted", None), ("passphrase_changed", None)]


def test_new_passphrase_prompt_must_match_and_be_long_enough(tmp_path, monkeypatch):
    path = tmp_path / "plain.duckdb"
    open_store(path).close()
    answers = iter(["one passphrase", "another one"])
    monkeypatch.setattr(cli_security, "_stdin_is_terminal", lambda: True)
    monkeypatch.setattr(cli_security.getpass, "getpass", lambda prompt: next(answers))
    assert cli.main(["encrypt", "--workspace", str(path)]) == 2
    short = tmp_path / "short.txt"
    short.write_text("abc", encoding="utf-8")
    assert cli.main(["encrypt", "--workspace", str(path), "--new-passphrase-file", str(short)]) == 2
    assert not file_is_encrypted(path) and not slot_path(path).exists()


def test_import_into_a_new_workspace_with_a_passphrase_creates_it_encrypted_and_audits(tmp_path, monkeypatch):
    csv_file = tmp_path / "obs.csv"
    csv_file.write_text(
        "patient_id,name,time,measurement,value,unit\n"
        "p-3,Hepzibah Thistlewood,2024-01-02 08:00,heart_rate,88,bpm\n"
        "p-3,Hepzibah Thistlewood,2024-01-02 09:00,heart_rate,91,bpm\n",
        encoding="utf-8",
    )
    path = tmp_path / "new.duckdb"
    monkeypatch.setenv(cli_security.PASSPHRASE_ENV, PASSPHRASE)
    assert cli.main(["import", "--workspace", str(path), str(csv_file)]) in (0, 1)
    assert file_is_encrypted(path) and b"Thistlewood" not in path.read_bytes()
    actions = _actions(path)
    assert [a for a, _ in actions] == ["file_imported"]
    with open_encrypted_workspace(path, PASSPHRASE) as store:
        assert "obs.csv" in read_audit(store)[0].detail


def test_chat_records_the_question_with_the_patient_id_only(tmp_path, monkeypatch, capsys):
    path = _encrypted(tmp_path)
    monkeypatch.setenv(cli_security.PASSPHRASE_ENV, PASSPHRASE)
    question = "Is Ottoline's potassium rising?"
    code = cli.main(["chat", "--workspace", str(path), "--patient", "p-1", "--model", str(tmp_path / "none.gguf"),
                     question])
    assert code == 0  # a question about the data is computed from the record: no model file needed
    forget_workspace_key()
    with open_encrypted_workspace(path, PASSPHRASE) as store:
        (entry,) = read_audit(store)
    assert (entry.action, entry.patient_id) == ("question_asked", "p-1")
    assert "potassium" not in entry.detail


def test_an_empty_or_missing_passphrase_file_is_named(tmp_path, capsys):
    path = _encrypted(tmp_path)
    empty = tmp_path / "empty.txt"
    empty.write_text("\n", encoding="utf-8")
    assert cli.main(["patients", "--workspace", str(path), "--passphrase-file", str(empty)]) == 2
    assert "empty.txt: the passphrase file is empty" in capsys.readouterr().err
    assert cli.main(["patients", "--workspace", str(path), "--passphrase-file", str(tmp_path / "missing")]) == 2
    assert "missing: cannot read the passphrase file" in capsys.readouterr().err


def test_a_missing_key_slot_is_named_before_any_passphrase_is_asked(tmp_path, capsys):
    path = _encrypted(tmp_path)
    slot_path(path).rename(tmp_path / "slot-elsewhere")
    assert cli.main(["patients", "--workspace", str(path)]) == 2
    assert "clinic.duckdb.keyslot is missing: copy it together with the workspace" in capsys.readouterr().err
