"""`?count=true` on a list: the request asks for a total, the list query answers it.

The pagination dependency (app/api/deps.py) opens a `CountSlot` for the request when `count=true`;
TenantRepository.page (app/repositories/base.py) fills it with the number of rows its filters match
(all pages, counted up to COUNT_CAP + 1 in one extra statement); a `Page` built in that request
carries it as `total` / `total_capped`. Without `count=true` no slot is open and nothing is counted.
A context variable, not a parameter threaded through every service: the slot lives in the request's
own task context, so a request never sees another's.
"""

from contextvars import ContextVar
from dataclasses import dataclass

COUNT_CAP = 10_000


@dataclass
class CountSlot:
    total: int | None = None  # as counted: up to COUNT_CAP + 1

    def answer(self) -> tuple[int, bool] | None:
        """(total, capped) as a page states them, or None when nothing was counted."""
        if self.total is None:
            return None
        return min(self.total, COUNT_CAP), self.total > COUNT_CAP


_slot: ContextVar[CountSlot | None] = ContextVar("count_slot", default=None)


def open_count(wanted: bool) -> None:
    _slot.set(CountSlot() if wanted else None)


def count_slot() -> CountSlot | None:
    return _slot.get()
