"""The verifier set up for one patient from the workspace: the summary the model was given and the record
its claims are checked against, read in one go on the DuckDB thread (the chat turn then feeds the streaming
verifier on the model's thread, where no query may run)."""

from __future__ import annotations

from collections.abc import Iterable

from desktop.core.assistant.answer import Fact
from desktop.core.assistant.verify import StreamingVerifier, Verdict
from desktop.core.assistant.verify_record import record_book
from desktop.core.queries.summary import patient_summary
from desktop.core.workspace.store import Store


def patient_verifier(store: Store, patient_id: str | None, *, facts: Iterable[Fact] = ()) -> StreamingVerifier:
    """A streaming verifier for text about ``patient_id`` (facts only when None: a workspace question)."""
    if not patient_id:
        return StreamingVerifier(facts=facts)
    return StreamingVerifier(facts=facts, summary=patient_summary(store, patient_id),
                             record=record_book(store, patient_id))


def verify_for_patient(store: Store, text: str, *, patient_id: str | None, facts: Iterable[Fact] = ()) -> Verdict:
    """The verdict on a whole text about ``patient_id``, every record claim checked."""
    verifier = patient_verifier(store, patient_id, facts=facts)
    verifier.feed(text)
    verifier.finish()
    return verifier.verdict
