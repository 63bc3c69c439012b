"""The demo tenant that `make run` creates on first start (later issues add sample data)."""

from sqlalchemy import select

from app.core.runtime import Runtime
from app.models.user import User, UserIdentity
from app.services import auth

DEMO_BUSINESS = "Demo Traders Pvt Ltd"


async def ensure_demo_tenant(rt: Runtime) -> bool:
    """Create the demo tenant and owner if missing, email pre-verified. True if created now."""
    email = rt.settings.demo_email.lower()
    async with rt.db.transaction() as session:
        if await session.get(UserIdentity, email) is not None:
            return False
        await auth.register(
            session,
            rt,
            email=email,
            password=rt.settings.demo_password,
            full_name="Demo Owner",
            business_name=DEMO_BUSINESS,
            phone=None,
        )
        user = (await session.execute(select(User).where(User.email == email))).scalar_one()
        user.email_verified_at = rt.now()
    return True
