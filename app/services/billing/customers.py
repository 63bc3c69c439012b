"""Customers: the GST rules of a customer record, and its writes (each audited in the same transaction).

Registered vs unregistered follows from the GSTIN. A registered customer's billing state is its
GSTIN's state and its PAN is the GSTIN's characters 3-12; an unregistered one needs a billing state.
`balance` is never set from input: it starts at the opening balance and moves with it (and, later,
with documents), always by an atomic UPDATE.
"""

import uuid
from decimal import Decimal
from typing import Any, Literal

from sqlalchemy.ext.asyncio import AsyncSession
from stdnum.in_ import pan as stdnum_pan

from app.core.context import Context
from app.core.errors import Conflict, NotFound, ReferenceNotFound, RuleViolation
from app.domain.gst import InvalidGstin, normalize_gstin, state_of_gstin
from app.models.base import new_id
from app.models.billing.business import Company
from app.models.billing.customer import Customer
from app.repositories.billing.companies import CompanyRepository
from app.repositories.billing.customers import REFERENCES, CustomerRepository
from app.services.platform import audit, entitlements, event_payloads, events

FIELDS = [
    "name",
    "client_type_id",
    "account_manager_id",
    "gstin",
    "pan",
    "is_sez",
    "email",
    "phone",
    "billing_address_line1",
    "billing_address_line2",
    "billing_city",
    "billing_state_code",
    "billing_pincode",
    "shipping_address_line1",
    "shipping_address_line2",
    "shipping_city",
    "shipping_state_code",
    "shipping_pincode",
    "payment_terms_days",
    "credit_limit",
    "opening_balance",
    "payment_reminders",
]
AUDITED = [*FIELDS, "balance", "is_archived"]
WALK_IN_NAME = "Walk-in customer"
DEFAULTS: dict[str, Any] = dict.fromkeys(FIELDS) | {
    "is_sez": False,
    "opening_balance": Decimal("0.00"),
    "payment_reminders": True,
}


async def get(session: AsyncSession, customer_id: uuid.UUID, *, for_update: bool = False) -> Customer:
    customer = await CustomerRepository(session).get(customer_id, for_update=for_update)
    if customer is None:
        raise NotFound("Customer not found.", code="customer-not-found")
    return customer


async def get_active(session: AsyncSession, customer_id: uuid.UUID) -> Customer:
    """The customer, if it exists in this tenant (else 404) and is not archived (else 400)."""
    return active(await CustomerRepository(session).get(customer_id))


def active(customer: Customer | None) -> Customer:
    """`get_active`'s verdict on a customer loaded with other rows (None: not in this tenant)."""
    if customer is None:
        raise NotFound("Customer not found.", code="customer-not-found")
    if customer.is_archived:
        raise RuleViolation("customer_id", "The customer is archived.", code="customer-archived")
    return customer


async def walk_in(session: AsyncSession, company: Company) -> Customer:
    """The company's walk-in customer (counter sales without a named customer), made on its first
    such sale: unregistered, billed in the company's state (a B2C sale whose place of supply is the
    shop's state). Not counted against the plan's customer limit; audited when made. Kept in the
    company's state if that changes."""
    repo = CustomerRepository(session)
    customer = await repo.walk_in(company.id)
    if customer is None:
        made = Customer(
            id=new_id(),
            name=WALK_IN_NAME,
            billing_state_code=company.state_code,
            walk_in_company_id=company.id,
            payment_reminders=False,
        )
        customer = await repo.add_walk_in(made)
        if customer is not None:
            after = audit.snapshot(customer, [*AUDITED, "walk_in_company_id"])
            await audit.record(
                session, action="customer.created", entity_type="customer", entity_id=customer.id, after=after
            )
            await _event(session, customer)
            return customer
        customer = await repo.walk_in(company.id)  # another request made it first, and committed
        if customer is None:  # it was made and then deleted (walk-ins cannot be deleted): a bug
            raise LookupError(f"no walk-in customer for company {company.id}")
    if customer.billing_state_code != company.state_code:
        before = audit.snapshot(customer, AUDITED)
        await repo.set_billing_state(customer, company.state_code)
        await _audit(session, "customer.updated", customer, before=before)
    return customer


def _not_walk_in(customer: Customer) -> Customer:
    if customer.walk_in_company_id is not None:
        raise Conflict(
            "The walk-in customer stands for a company's counter sales; it cannot be edited or removed.",
            code="walk-in-customer",
        )
    return customer


async def create(session: AsyncSession, ctx: Context, *, values: dict[str, Any]) -> Customer:
    checked = await _checked(session, DEFAULTS | values, sent=set(values))
    if not await _first_of_own_registration(session, checked["gstin"]):
        await entitlements.require(session, ctx, entitlements.Limit.customers)
    customer = Customer(**checked, balance=checked["opening_balance"])
    await CustomerRepository(session).add(customer)
    await _audit(session, "customer.created", customer, before=None)
    await _event(session, customer)
    return customer


async def _event(session: AsyncSession, customer: Customer) -> None:
    await events.record(
        session,
        "customer.created",
        resource_type="customer",
        resource_id=customer.id,
        payload=event_payloads.customer(customer),
    )


async def _first_of_own_registration(session: AsyncSession, gstin: str | None) -> bool:
    """Whether a new customer with `gstin` is left out of the plan's customer limit: the first active
    customer carrying one of the tenant's own companies' GSTINs (a stock transfer's recipient).
    Only the first: more customers with that GSTIN count, or anyone could add customers without
    limit by giving them the business's own GSTIN (app.repositories.platform.subscriptions counts alike)."""
    if gstin is None or not await CompanyRepository(session).has_gstin(gstin):
        return False
    return await CustomerRepository(session).first_with_gstin(gstin) is None


async def _counts_once_changed(session: AsyncSession, customer: Customer) -> bool:
    """Whether changing the GSTIN of `customer` may make it count against the plan: it carries one of
    the tenant's own GSTINs now (left out of the count, or that GSTIN's one exemption moves to it)."""
    return customer.gstin is not None and await CompanyRepository(session).has_gstin(customer.gstin)


async def update(session: AsyncSession, ctx: Context, customer_id: uuid.UUID, *, changes: dict[str, Any]) -> Customer:
    repo = CustomerRepository(session)
    customer = _not_walk_in(await get(session, customer_id, for_update=True))
    before = audit.snapshot(customer, AUDITED)
    current = {name: getattr(customer, name) for name in FIELDS}
    checked = await _checked(session, current | changes, sent=set(changes))
    if checked["gstin"] != customer.gstin and await _counts_once_changed(session, customer):
        await entitlements.require(session, ctx, entitlements.Limit.customers)
    opening_balance = checked.pop("opening_balance")
    for name, value in checked.items():
        setattr(customer, name, value)
    await session.flush()
    if opening_balance != customer.opening_balance:
        await repo.set_opening_balance(customer, opening_balance)
    await _audit(session, "customer.updated", customer, before=before)
    return customer


async def remove(session: AsyncSession, customer_id: uuid.UUID) -> tuple[Literal["deleted", "archived"], Customer]:
    """Delete; a customer that documents refer to is archived instead (they must keep pointing at it)."""
    customer = _not_walk_in(await get(session, customer_id, for_update=True))
    before = audit.snapshot(customer, AUDITED)
    if await CustomerRepository(session).try_delete(customer):
        await audit.record(
            session, action="customer.deleted", entity_type="customer", entity_id=customer.id, before=before
        )
        return "deleted", customer
    customer.is_archived = True
    await session.flush()
    await _audit(session, "customer.archived", customer, before=before)
    return "archived", customer


async def _audit(session: AsyncSession, action: str, customer: Customer, *, before: dict[str, Any] | None) -> None:
    after = audit.snapshot(customer, AUDITED)
    await audit.record(
        session, action=action, entity_type="customer", entity_id=customer.id, before=before, after=after
    )


async def _checked(session: AsyncSession, values: dict[str, Any], *, sent: set[str]) -> dict[str, Any]:
    """`values` (the whole record after the change) with the GST rules applied, or an error."""
    await _check_references(session, values, sent)
    values = dict(values)
    if "gstin" in sent and values["gstin"] is not None:
        values["gstin"] = _valid_gstin(values["gstin"])
    gstin = values["gstin"]
    _check_pan(values["pan"] if "pan" in sent else None, gstin)
    if gstin is not None:
        values["pan"] = gstin[2:12]
    values["billing_state_code"] = _billing_state(
        values["billing_state_code"], gstin, explicit="billing_state_code" in sent
    )
    return values


async def _check_references(session: AsyncSession, values: dict[str, Any], sent: set[str]) -> None:
    repo = CustomerRepository(session)
    for field in REFERENCES:
        if field in sent and values[field] is not None and not await repo.reference_exists(field, values[field]):
            raise ReferenceNotFound(field)


def _valid_gstin(value: str) -> str:
    try:
        return normalize_gstin(value)
    except InvalidGstin as exc:
        raise RuleViolation("gstin", f"The GSTIN is not valid ({exc}).", code="invalid-gstin") from exc


def _check_pan(pan: str | None, gstin: str | None) -> None:
    if pan is None:
        return
    if not stdnum_pan.is_valid(pan):
        raise RuleViolation("pan", "The PAN is not valid.", code="invalid-pan")
    if gstin is not None and pan != gstin[2:12]:
        raise RuleViolation("pan", "The PAN must be the GSTIN's characters 3 to 12.", code="pan-gstin-mismatch")


def _billing_state(state_code: str | None, gstin: str | None, *, explicit: bool) -> str:
    if gstin is None:
        if state_code is None:
            raise RuleViolation(
                "billing_address", "A customer without GSTIN needs a billing state code.", code="billing-state-required"
            )
        return state_code
    derived = state_of_gstin(gstin)
    if explicit and state_code is not None and state_code != derived:
        raise RuleViolation(
            "billing_address", "The billing state must be the GSTIN's state.", code="billing-state-mismatch"
        )
    return derived
