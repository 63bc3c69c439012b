"""Companies: the tenant's legal entities, one per GSTIN. The GSTIN (checked with python-stdnum)
fixes the state; a PAN given with it must be the GSTIN's characters 3-12."""

import uuid
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession
from stdnum.exceptions import ValidationError
from stdnum.in_ import pan as stdnum_pan

from app.core.context import Context
from app.core.errors import NotFound, RuleViolation
from app.domain.gst import InvalidGstin, normalize_gstin, state_of_gstin
from app.models.billing.business import Company
from app.repositories.billing.companies import CompanyRepository
from app.services.billing.simple_lists import Catalog

FIELDS = [
    "legal_name",
    "trade_name",
    "gstin",
    "pan",
    "state_code",
    "address_line1",
    "address_line2",
    "city",
    "pincode",
    "email",
    "phone",
    "bank_account_name",
    "bank_account_number",
    "ifsc",
    "upi_vpa",
    "default_terms",
    "is_archived",
]


async def check_company(session: AsyncSession, ctx: Context, company: Company, changes: dict[str, Any]) -> None:
    if company.gstin is not None:
        _apply_gstin(company, company.gstin, changes)
    if company.pan is not None:
        _check_pan(company, company.pan)


def _apply_gstin(company: Company, gstin: str, changes: dict[str, Any]) -> None:
    try:
        company.gstin = normalize_gstin(gstin)
    except InvalidGstin as exc:
        raise RuleViolation("gstin", str(exc), code="invalid-gstin") from exc
    state = state_of_gstin(company.gstin)
    if changes.get("state_code") not in (None, state):
        raise RuleViolation("state_code", f"The GSTIN is of state {state}.", code="state-mismatch")
    company.state_code = state


def _check_pan(company: Company, pan: str) -> None:
    try:
        stdnum_pan.validate(pan)
    except ValidationError as exc:
        raise RuleViolation("pan", f"not a valid PAN: {exc}", code="invalid-pan") from exc
    if company.gstin is not None and company.gstin[2:12] != pan:
        raise RuleViolation("pan", "The PAN must be the GSTIN's characters 3-12.", code="pan-mismatch")


COMPANIES = Catalog(
    model=Company,
    entity="company",
    label="company",
    fields=FIELDS,
    search_columns=["legal_name", "trade_name", "gstin"],
    sorts={"legal_name": "legal_name", "created_at": "created_at"},
    kept_as="archived",
    check=check_company,
    conflict="A company with this GSTIN already exists.",
)


async def get_active(session: AsyncSession, company_id: uuid.UUID) -> Company:
    """The company, if it exists in this tenant (else 404) and is not archived (else 400)."""
    return active(await CompanyRepository(session).get(company_id))


def active(company: Company | None) -> Company:
    """`get_active`'s verdict on a company loaded with other rows (None: not in this tenant)."""
    if company is None:
        raise NotFound("No company with this id.", code="company-not-found")
    if company.is_archived:
        raise RuleViolation("company_id", "The company is archived.", code="company-archived")
    return company
