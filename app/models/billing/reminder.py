from sqlalchemy import ARRAY, CheckConstraint, Index, Integer, String, text
from sqlalchemy.orm import Mapped, mapped_column

from app.models.base import Base, TenantScoped, Timestamps

DEFAULT_OFFSETS = (-3, 1, 7, 15)
OFFSET_RANGE = (-30, 365)
MAX_OFFSETS = 8
# Reminders go out from the tenant's send hour (Asia/Kolkata) until QUIET_FROM (21:00): never at night.
SEND_HOURS = (7, 20)
QUIET_FROM = 21
CHANNELS = ("email",)


class ReminderSettings(TenantScoped, Timestamps, Base):
    """Payment reminders to a tenant's customers (one row per tenant; no row = the defaults, off).

    `offsets`: days relative to an invoice's due date on which a reminder goes out (-3 = three days
    before, 7 = a week after), sorted and unique. `send_hour`: the hour of the day in Asia/Kolkata
    from which that day's reminders are sent (until QUIET_FROM). The channel is email (the mail
    carries each invoice's share link, which a customer can forward on WhatsApp)."""

    __tablename__ = "reminder_settings"
    __table_args__ = (
        Index("uq_reminder_settings_tenant_id", "tenant_id", unique=True),
        CheckConstraint(
            f"cardinality(offsets) BETWEEN 1 AND {MAX_OFFSETS} AND {OFFSET_RANGE[0]} <= ALL(offsets) "
            f"AND {OFFSET_RANGE[1]} >= ALL(offsets)",
            name="offsets",
        ),
        CheckConstraint(f"send_hour BETWEEN {SEND_HOURS[0]} AND {SEND_HOURS[1]}", name="send_hour"),
        CheckConstraint("channel IN ({})".format(", ".join(f"'{c}'" for c in CHANNELS)), name="channel"),
    )

    enabled: Mapped[bool] = mapped_column(default=False, server_default=text("false"))
    offsets: Mapped[list[int]] = mapped_column(
        ARRAY(Integer), default=lambda: list(DEFAULT_OFFSETS), server_default=text("'{-3,1,7,15}'::integer[]")
    )
    send_hour: Mapped[int] = mapped_column(default=10, server_default=text("10"))
    channel: Mapped[str] = mapped_column(String(10), default="email", server_default=text("'email'"))
