"""What stores that several trond share add: the leader's lease, the fencing error, and the
changes of runs a standby follows."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol, runtime_checkable

from tron.core.records import JobRun
from tron.errors import StoreError


class FencedError(StoreError):
    """A write of a leader whose epoch is no longer the current one: another trond leads."""

    def __init__(self, mine: int | None, current: int) -> None:
        self.mine, self.current = mine, current
        super().__init__(
            f"this trond no longer leads (its epoch {mine}, the lease's {current}): "
            "nothing was written"
        )


@dataclass(frozen=True, slots=True, kw_only=True)
class Lease:
    """The lease row as read: who leads, since which epoch, and how fresh it is."""

    holder: str | None
    address: str | None
    epoch: int
    age: float | None  # seconds since the last renewal, by the database's clock
    remaining: float | None  # seconds until it lapses (negative: lapsed)


@dataclass(frozen=True, slots=True, kw_only=True)
class RunChanges:
    """What changed in the runs since a mark (see `LeaseStore.run_changes`)."""

    mark: int  # to pass to the next call
    full: bool  # `runs` is every run: the view is rebuilt, not patched
    runs: list[JobRun]  # created or changed since the mark, whole, as they are now
    deleted: list[tuple[str, int]]  # (job name, run number) deleted since the mark
    config_mark: int  # grows with every saved config version


@runtime_checkable
class LeaseStore(Protocol):
    """A store several trond share: one of them leads by holding its lease."""

    async def acquire_lease(self, holder: str, address: str, seconds: float) -> Lease | None:
        """Take the lease with a new epoch if nobody holds it or it lapsed; None if held."""
        ...

    async def renew_lease(self, holder: str, epoch: int, seconds: float) -> bool:
        """Extend our lease; False when `epoch` is no longer the current one."""
        ...

    async def release_lease(self, holder: str, epoch: int) -> None:
        """Let the lease lapse now (a clean stop), so a standby takes over at once."""
        ...

    async def read_lease(self) -> Lease: ...

    async def run_changes(self, since: int | None) -> RunChanges:
        """The runs written and deleted since the mark `since` of an earlier call (with
        repeats), or every run when `since` is None or too old to follow."""
        ...

    def fence(self, epoch: int | None) -> None:
        """Make every later write conditional on `epoch` (None: refuse every write)."""
        ...
