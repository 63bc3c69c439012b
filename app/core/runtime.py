"""The application-level holder: settings, the database and the clock (injectable, so jobs and
tests can move time). A request or a job step does not use it directly: it gets one `Context`
(`context()`), which reads the clock once."""

import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime

from app.core.config import Settings
from app.core.context import Context
from app.core.database import Database
from app.models.base import utcnow


@dataclass
class Runtime:
    settings: Settings
    db: Database
    clock: Callable[[], datetime] = field(default=utcnow)

    def now(self) -> datetime:
        return self.clock()

    def context(
        self, tenant_id: uuid.UUID | None = None, actor_id: uuid.UUID | None = None, at: datetime | None = None
    ) -> Context:
        """A context at `at` (a job step's instant), else at the clock's now, read once."""
        return Context(
            settings=self.settings,
            db=self.db,
            now=at if at is not None else self.clock(),
            tenant_id=tenant_id,
            actor_id=actor_id,
        )
