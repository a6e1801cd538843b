"""A person's QA decision, stored: the one function behind ``akte qa approve|reject`` and the
web archive's *QS* page, so a decision has the same effect and audit wherever it is made.

Apart from :mod:`.qa` because it refuses decisions on released batches, and :mod:`.release`
itself builds on :mod:`.qa`.
"""

from __future__ import annotations

from .archive.audit import Actor
from .archive.seal import update_record
from .archive.store import ArchiveStore
from .models import ArchiveRecord
from .qa import decide
from .release import refuse_if_released


def record_decision(store: ArchiveStore, record: ArchiveRecord, approve: bool, text: str | None,
                    actor: Actor | None = None, via: str | None = None) -> ArchiveRecord:
    """Store a person's QA decision on ``record``: ``akte qa approve|reject`` and the web's *QS*.

    The manifest is re-read, changed and rewritten crash-safely under the audit lock, and sealed
    in the audit chain, like every manifest change (:func:`.archive.seal.update_record`); ``actor`` is who decided (the operating-system user by default, the signed-in user
    and their client address in the web archive).

    Raises:
        QaClosedError: the record's batch is released.
        AkteError: a rejection has no reason, or the record has no scanned pages.
    """
    actor = actor or Actor.current()

    def change(current: ArchiveRecord) -> ArchiveRecord:
        refuse_if_released(store, current)
        return decide(current, approve, text, actor.name, via)

    return update_record(store, record.id, "qa", change, actor)

