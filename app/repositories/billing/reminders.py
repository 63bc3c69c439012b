"""Payment reminders: the open invoices a reminder may be due on, and the reminders already claimed."""

from collections.abc import Sequence
from datetime import date

from sqlalchemy import select

from app.models.billing.business import Company
from app.models.billing.customer import Customer
from app.models.billing.invoice import Invoice
from app.models.platform.job import JobOccasion, OccasionKind
from app.repositories.base import TenantOwnedRepository
from app.repositories.billing.invoices import open_condition


class PaymentReminderRepository(TenantOwnedRepository[Invoice]):
    model = Invoice

    async def open_invoices(self, *, due_from: date, due_to: date) -> list[tuple[Invoice, Customer, Company]]:
        """Open invoices (app.domain.statuses.is_open) due between the two days, of customers who take
        reminders, with their customer and company; the invoices locked (in id order, so two runs
        cannot deadlock) until the caller's transaction ends: a payment, credit note or void waits
        for the reminder's commit, or commits first and the invoice is no longer found here.
        FOR NO KEY UPDATE, not FOR UPDATE: rows that merely reference the invoice (a send's
        outbox_email_documents, a share link) take KEY SHARE on it, which must not wait, or a send
        holding the customer-mail lock and this step waiting for that lock deadlock."""
        stmt = (
            select(Invoice, Customer, Company)
            .join(Customer, (Customer.tenant_id == Invoice.tenant_id) & (Customer.id == Invoice.customer_id))
            .join(Company, (Company.tenant_id == Invoice.tenant_id) & (Company.id == Invoice.company_id))
            .where(open_condition(), Invoice.due_date >= due_from, Invoice.due_date <= due_to)
            .where(Customer.payment_reminders)
            .order_by(Invoice.id)
            .with_for_update(of=Invoice, key_share=True)
        )
        rows = await self.session.execute(stmt)
        return [(invoice, customer, company) for invoice, customer, company in rows.all()]

    async def claimed(self, keys: Sequence[str]) -> set[str]:
        """Which of these payment reminder keys ("<invoice id>:<days>") are claimed (sent or skipped)."""
        if not keys:
            return set()
        stmt = select(JobOccasion.occasion_key).where(
            JobOccasion.kind == OccasionKind.payment_reminder, JobOccasion.occasion_key.in_(list(keys))
        )
        return set((await self.session.execute(stmt)).scalars())
