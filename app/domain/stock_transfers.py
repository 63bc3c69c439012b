"""Which paperwork GST asks of a stock transfer between two companies (places of business) of a
business, and the value each line is invoiced at. Pure rules; the law is cited in
app.services.catalog.stock_transfers, which applies them."""

import uuid
from dataclasses import dataclass
from decimal import Decimal
from enum import StrEnum

from app.domain.errors import RuleBroken


class Paperwork(StrEnum):
    tax_invoice = "tax_invoice"  # between two registrations: a supply (CGST Act s.25(4), Schedule I para 2)
    delivery_challan = "delivery_challan"  # one unregistered person's own goods: no supply (CGST Rules, rule 55)


@dataclass(frozen=True)
class Place:
    """What the rules read of a company."""

    id: uuid.UUID
    name: str
    gstin: str | None
    pan: str | None


def paperwork(source: Place, destination: Place) -> Paperwork:
    """A tax invoice between two GST registrations, a delivery challan between two unregistered
    places of one person; anything else is refused (RuleBroken, 422)."""
    if source.id == destination.id:
        raise RuleBroken(
            "to_company_id", "A transfer goes to another company of the business.", code="transfer-same-company"
        )
    if source.gstin and destination.gstin:
        return Paperwork.tax_invoice
    if source.gstin or destination.gstin:
        registered, unregistered = (source, destination) if source.gstin else (destination, source)
        raise RuleBroken(
            "to_company_id" if registered is source else "from_company_id",
            f"{registered.name} is a GST registration and {unregistered.name} is not: goods between them are either "
            "a supply to another person (invoice it) or go to a place of business that must be on a registration "
            "first (CGST Act s.22, s.25). Such a transfer is not handled.",
            code="transfer-registration-mismatch",
        )
    if source.pan and destination.pan and source.pan != destination.pan:
        raise RuleBroken(
            "to_company_id",
            "The two companies have different PANs: they are two persons, and goods passing between them are a sale, "
            "not a transfer of one's own goods. Invoice them instead.",
            code="transfer-between-persons",
        )
    return Paperwork.delivery_challan


def check_tracked(field: str, name: str, track_stock: bool) -> None:
    """Only goods whose stock is kept can be transferred (a product sold without stock has none)."""
    if not track_stock:
        raise RuleBroken(
            field, f"{name} does not track stock: there is nothing to transfer.", code="product-not-tracked"
        )


@dataclass(frozen=True)
class LineValue:
    """A line's `unit_value` as sent and its product's purchase cost (either may be missing)."""

    unit_value: Decimal | None
    purchase_cost: Decimal | None


def unit_values(lines: list[LineValue], kind: Paperwork) -> list[Decimal | None]:
    """The value of one unit of each line: the one sent, else the product's purchase cost. A tax
    invoice needs one for every line (refused otherwise, naming the lines, numbered from 1); a
    challan carries what is known."""
    values = [line.unit_value if line.unit_value is not None else line.purchase_cost for line in lines]
    missing = [position for position, value in enumerate(values, start=1) if value is None]
    if missing and kind == Paperwork.tax_invoice:
        raise RuleBroken(
            f"lines.{missing[0] - 1}.unit_value",
            "Between two GST registrations the transfer is invoiced at a value per unit (CGST Rules, rule 28): "
            f"send unit_value, or set the product's purchase cost, for line{'s' if len(missing) > 1 else ''} "
            f"{', '.join(map(str, missing))}.",
            code="transfer-value-required",
        )
    return values
