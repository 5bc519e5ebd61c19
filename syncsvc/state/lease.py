"""The instance lease: which process may send and write, proved in the database itself.

Vocabulary:

- the *lease* is one row (``instance_lease``): its *holder* (a random id per process), its
  *epoch* (a number that grows at every change of holder) and its expiry, in the database's own
  clock (so that the clocks of two machines never disagree about it);
- the active instance *renews* the lease well before it expires; a standby *takes* it only once
  it has expired (or at once when the holder gave it back);
- every send and write is *fenced*: an outbox message is claimed by a conditional update that
  also requires the lease to be held, unexpired, at the claimant's epoch; a batch of calendar
  writes starts only after the same check. An instance that lost the lease (its database link
  was cut, a standby took over) can therefore neither claim a message nor start a batch, even
  while it still believes it is active.
"""

from __future__ import annotations

from typing import Final

from sqlalchemy import and_, exists, insert, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.sql.elements import ColumnElement

from syncsvc.state.base import StorePart
from syncsvc.state.schema import instance_lease

LEASE: Final = "active"


class Leases(StorePart):
    """Take, renew, give back and check the instance lease."""

    def _ensure_row(self) -> None:
        with self.begin() as db:
            found = db.execute(
                select(instance_lease.c.name).where(instance_lease.c.name == LEASE)
            ).first()
            if found is None:
                try:
                    with db.begin_nested():
                        db.execute(
                            insert(instance_lease).values(
                                name=LEASE, holder=None, epoch=0, expires_at=0.0
                            )
                        )
                except IntegrityError:
                    pass  # another process made it at the same moment

    def take_lease(self, holder: str, seconds: float, *, force: bool = False) -> int | None:
        """The new epoch when ``holder`` took the lease (it had expired, had been given back,
        or ``force``: the caller proved its holder dead); None when another holder has it."""
        self._ensure_row()
        now = self.now_seconds()
        condition = instance_lease.c.name == LEASE
        if not force:
            condition = and_(
                condition,
                (instance_lease.c.expires_at < now) | instance_lease.c.holder.is_(None),
            )
        with self.begin(durable=True) as db:
            done = db.execute(
                update(instance_lease)
                .where(condition)
                .values(holder=holder, epoch=instance_lease.c.epoch + 1, expires_at=now + seconds)
            )
            if done.rowcount != 1:
                return None
            epoch = db.execute(
                select(instance_lease.c.epoch).where(instance_lease.c.name == LEASE)
            ).scalar_one()
        return int(epoch)

    def renew_lease(self, holder: str, epoch: int, seconds: float) -> bool:
        """Push the expiry back; False when the lease is no longer ours (someone took it)."""
        now = self.now_seconds()
        with self.begin(durable=True) as db:
            done = db.execute(
                update(instance_lease)
                .where(self._ours(holder, epoch))
                .values(expires_at=now + seconds)
            )
        return done.rowcount == 1

    def give_back_lease(self, holder: str, epoch: int) -> None:
        with self.begin(durable=True) as db:
            db.execute(
                update(instance_lease)
                .where(self._ours(holder, epoch))
                .values(holder=None, expires_at=0.0)
            )

    def lease_valid(self, holder: str, epoch: int) -> bool:
        """True when ``holder`` holds the lease at ``epoch`` and it has not expired."""
        with self.begin() as db:
            return bool(db.execute(select(self.holds(holder, epoch))).scalar())

    def lease_holder(self) -> tuple[str | None, int, bool]:
        """(holder, epoch, still valid) of the lease as it is now."""
        self._ensure_row()
        now = self.now_seconds()
        with self.begin() as db:
            row = db.execute(
                select(
                    instance_lease.c.holder,
                    instance_lease.c.epoch,
                    instance_lease.c.expires_at >= now,
                ).where(instance_lease.c.name == LEASE)
            ).one()
        return row[0], int(row[1]), bool(row[2])

    def holds(self, holder: str, epoch: int) -> ColumnElement[bool]:
        """An SQL condition, true while ``holder`` holds the unexpired lease at ``epoch``: the
        fence that conditional claims and writes carry."""
        return exists().where(
            self._ours(holder, epoch), instance_lease.c.expires_at >= self.now_seconds()
        )

    def _ours(self, holder: str, epoch: int) -> ColumnElement[bool]:
        return and_(
            instance_lease.c.name == LEASE,
            instance_lease.c.holder == holder,
            instance_lease.c.epoch == epoch,
        )
