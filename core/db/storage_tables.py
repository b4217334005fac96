"""Each user's running storage total: the bytes and objects the quota counts, kept in step by the
database itself.

Triggers (migration 0007) add and subtract every change in the statement that makes it, in the
same transaction, whatever code or SQL makes it: a user row gets its total row; an upload row
counts as one object and its ``size_bytes`` (0 while pending, whatever its age); a TTS job counts
while it has a result not yet expired, with its ``result_size_bytes``. So reading a user's usage
is one primary-key read instead of sums over their rows, and the storage audit
(``core.services.quota.total_mismatches``) proves the totals equal the sums.

On PostgreSQL a trigger's update locks the user's total row until commit: the row is always the
last thing a transaction locks (after the user, the job, the balance and the upload rows; a
presign locks the user's row first too), so the lock order stays free of cycles.
"""

from __future__ import annotations

from sqlalchemy import BigInteger, ForeignKey, Integer
from sqlalchemy.orm import Mapped, mapped_column

from core.db.base import Base


class StorageTotal(Base):
    """What a user keeps stored, as the quota counts it (maintained by triggers: never write it)."""

    __tablename__ = "storage_totals"

    user_id: Mapped[str] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), primary_key=True)
    bytes_used: Mapped[int] = mapped_column(BigInteger, default=0)
    objects: Mapped[int] = mapped_column(Integer, default=0)
