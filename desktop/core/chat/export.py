"""A conversation as Markdown, for the record or a referral letter draft."""

from __future__ import annotations

import json

from desktop.core.assistant.verify import Verdict
from desktop.core.chat import history as h
from desktop.core.chat.session import DISCLAIMER
from desktop.core.chat.turn import COMPUTED_MODEL
from desktop.core.workspace.store import Store

_STATUS_NOTE = {
    "stopped": "stopped by the user",
    "truncated": "cut short (max tokens or a full context)",
    "interrupted": "interrupted (the app closed while writing)",
    "failed": "failed",
    "generating": "still being written",
}


def _checked_text(m: h.Message) -> str:
    """The message, with what the record does not support marked ([unverified: …], [contradicted: …])."""
    if not m.verdict:
        return m.content.strip()
    return Verdict.from_dict(json.loads(m.verdict)).marked(m.content).strip()


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
        out.append(_checked_text(m) or "_(empty)_")
        if m.verdict:
            counts = json.loads(m.verdict).get("counts", {})
            out += ["", f"_Checked against the record: {counts.get('verified', 0)} verified, "
                        f"{counts.get('unverified', 0)} unverified, {counts.get('contradicted', 0)} contradicted._"]
        if m.context_summary and m.model == COMPUTED_MODEL:
            doc = json.loads(m.context_summary)
            out += ["", f"_Computed from the workspace: {doc.get('plan_in_words', '')}._", ""]
            out += [f"    {' '.join(str(s).split())}" for s in doc.get("sql", [])]
        note = _STATUS_NOTE.get(m.status)
        if note:
            out += ["", f"_Answer {note}._"]
        out.append("")
    return "\n".join(out)
