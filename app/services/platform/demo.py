"""The demo tenant that `make run` creates on first start, with sample billing data."""

from app.core.context import Context
from app.repositories.identity.users import IdentityRepository, UserRepository
from app.services.identity import auth
from app.services.platform.demo_data import add_sample_data

DEMO_BUSINESS = "Demo Traders Pvt Ltd"


async def ensure_demo_tenant(ctx: Context) -> bool:
    """Create the demo tenant and owner if missing, email pre-verified. True if created now."""
    email = ctx.settings.demo_email.lower()
    async with ctx.db.transaction() as session:
        if await IdentityRepository(session).find(email) is not None:
            return False
        await auth.register(
            session,
            ctx,
            email=email,
            password=ctx.settings.demo_password,
            full_name="Demo Owner",
            business_name=DEMO_BUSINESS,
            phone=None,
        )
        identity = await IdentityRepository(session).find(email)
        user = await UserRepository(session).get(identity.user_id) if identity is not None else None
        if user is None:
            raise RuntimeError(f"the demo owner {email} was not created")
        user.email_verified_at = ctx.now
        await add_sample_data(session, ctx)
    return True
