"""What happens when a trial or paid period ends unrenewed: a pure value (no settings, no I/O).

Built once per request or job step from the settings POST_TRIAL_MODE and GRACE_DAYS
(`app.core.context.Context.policy`); the subscription rules (`app.services.platform.subscriptions`) read it.
"""

from dataclasses import dataclass


@dataclass(frozen=True)
class Policy:
    """`mode`: "free_tier" (the tenant drops to the free plan) or "hard_lock" (grace for
    `grace_days`, then locked)."""

    mode: str
    grace_days: int
