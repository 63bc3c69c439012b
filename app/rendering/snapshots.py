"""Parties and bank details from the snapshots an invoice freezes when saved
(`invoices.supplier` / `invoices.recipient` JSON, app/services/billing/invoicing.py supplier_snapshot and
recipient_snapshot): what the document printed when issued, whatever the company or customer says
now. Plain mappings in, so this stays free of the database layer; unknown keys are ignored, missing
ones are blank."""

from collections.abc import Mapping
from typing import Any

from app.rendering.views import BankDetails, Party


def _text(data: Mapping[str, Any], key: str) -> str | None:
    value = data.get(key)
    if value is None:
        return None
    text = str(value).strip()
    return text or None


def _lines(data: Mapping[str, Any], *keys: str) -> tuple[str, ...]:
    return tuple(line for line in (_text(data, key) for key in keys) if line)


def supplier_party(data: Mapping[str, Any]) -> Party:
    return Party(
        legal_name=_text(data, "legal_name") or "",
        trade_name=_text(data, "trade_name"),
        address_lines=_lines(data, "address_line1", "address_line2"),
        city=_text(data, "city"),
        pincode=_text(data, "pincode"),
        state_code=_text(data, "state_code"),
        gstin=_text(data, "gstin"),
        phone=_text(data, "phone"),
        email=_text(data, "email"),
        pan=_text(data, "pan"),
    )


def recipient_party(data: Mapping[str, Any], *, country: str | None = None) -> Party:
    """The billing party; `country` for an export's foreign recipient."""
    return Party(
        legal_name=_text(data, "name") or _text(data, "legal_name") or "",
        address_lines=_lines(data, "billing_address_line1", "billing_address_line2"),
        city=_text(data, "billing_city"),
        pincode=_text(data, "billing_pincode"),
        state_code=_text(data, "billing_state_code"),
        gstin=_text(data, "gstin"),
        phone=_text(data, "phone"),
        email=_text(data, "email"),
        country=country,
    )


def shipping_party(data: Mapping[str, Any]) -> Party | None:
    """The delivery address when there is one and it differs from the billing address (Rule 46(o))."""
    shipping = _lines(data, "shipping_address_line1", "shipping_address_line2")
    if not shipping:
        return None
    keys = ("address_line1", "address_line2", "city", "pincode", "state_code")
    if all(_text(data, f"shipping_{key}") == _text(data, f"billing_{key}") for key in keys):
        return None
    return Party(
        legal_name=_text(data, "name") or "",
        address_lines=shipping,
        city=_text(data, "shipping_city"),
        pincode=_text(data, "shipping_pincode"),
        state_code=_text(data, "shipping_state_code") or _text(data, "billing_state_code"),
    )


def bank_details(data: Mapping[str, Any]) -> BankDetails | None:
    bank = BankDetails(
        account_name=_text(data, "bank_account_name"),
        account_number=_text(data, "bank_account_number"),
        ifsc=_text(data, "ifsc"),
    )
    return bank if any((bank.account_name, bank.account_number, bank.ifsc)) else None


def upi_vpa(data: Mapping[str, Any]) -> str | None:
    return _text(data, "upi_vpa")
