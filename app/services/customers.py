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
from app.core.errors import NotFound, ReferenceNotFound, RuleViolation
from app.domain.gst import InvalidGstin, normalize_gstin, state_of_gstin
from app.models.customer import Customer
from app.repositories.companies import CompanyRepository
from app.repositories.customers import REFERENCES, CustomerRepository
from app.services import audit, entitlements

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


async def create(session: AsyncSession, ctx: Context, *, values: dict[str, Any]) -> Customer:
    checked = await _checked(session, DEFAULTS | values, sent=set(values))
    gstin = checked["gstin"]
    if gstin is None or not await CompanyRepository(session).has_gstin(gstin):  # own registrations are not counted
        await entitlements.require(session, ctx, entitlements.Limit.customers)
    customer = Customer(**checked, balance=checked["opening_balance"])
    await CustomerRepository(session).add(customer)
    await _audit(session, "customer.created", customer, before=None)
    return customer


async def update(session: AsyncSession, customer_id: uuid.UUID, *, changes: dict[str, Any]) -> Customer:
    repo = CustomerRepository(session)
    customer = await get(session, customer_id, for_update=True)
    before = audit.snapshot(customer, AUDITED)
    current = {name: getattr(customer, name) for name in FIELDS}
    checked = await _checked(session, current | changes, sent=set(changes))
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
    customer = await get(session, customer_id, for_update=True)
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
