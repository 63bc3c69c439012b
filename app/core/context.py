"""One context per request (and per job step): what a service needs besides the session.

A `Context` carries the settings, the database (for work outside the request's transaction), the
request's single instant `now` (read once from the app's clock) and its Indian calendar day
`today`, the bound tenant, the acting user and the subscription policy. Services take
`(session, ctx)`; `ctx.now` is a value, never a call, so one request cannot see two "now"s.

`Runtime.context()` (app.core.runtime) builds one; the API builds one per request (`ContextDep`
in app.api.deps), the scheduler one per tenant step with the step's instant.
"""

import uuid
from dataclasses import dataclass, field
from datetime import date, datetime
from functools import cached_property
from typing import Any

from app.core.config import Settings
from app.core.database import Database
from app.domain.fiscal import today_in_india
from app.domain.subscription_policy import Policy


@dataclass(frozen=True)
class Context:
    settings: Settings
    db: Database
    now: datetime
    tenant_id: uuid.UUID | None = None
    actor_id: uuid.UUID | None = None
    # Answers computed once per context (e.g. the subscription standing, so a write's "locked?"
    # check runs once however many layers ask). Keyed by the asker; never part of equality.
    memo: dict[str, Any] = field(default_factory=dict, compare=False, repr=False)

    def __post_init__(self) -> None:
        if self.now.tzinfo is None:
            raise ValueError("a context needs a timezone-aware instant")

    @cached_property
    def today(self) -> date:
        """The calendar day of `now` in Asia/Kolkata (the day on documents and in reports)."""
        return today_in_india(self.now)

    @cached_property
    def policy(self) -> Policy:
        """The subscription policy (settings POST_TRIAL_MODE, GRACE_DAYS)."""
        return Policy(self.settings.post_trial_mode, self.settings.grace_days)
