"""What services need besides the session: settings, the database (for work after commit or
outside the request's transaction) and the clock (injectable, so jobs and tests can move time)."""

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime

from app.core.config import Settings
from app.core.database import Database
from app.models.base import utcnow


@dataclass
class Runtime:
    settings: Settings
    db: Database
    clock: Callable[[], datetime] = field(default=utcnow)

    def now(self) -> datetime:
        return self.clock()
