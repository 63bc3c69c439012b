"""An invoice computed whole, in one call, from what was loaded for it (pure, no I/O).

`compute_invoice` takes the document as sent (or as a draft stores it), the supplier (company),
the recipient (customer), the GST settings, the service types its lines name and the tax rates in
force on its date, and returns every column the invoice and its lines store: defaults applied
(dates, place of supply, a service type's description, price and rate), each line's tax split,
the totals with their round-off, the supply type and the document the law asks for. A broken rule
raises RuleBroken (400; 422 for the export and SEZ details, app.domain.zero_rated), an unknown
service type ReferenceMissing (404), in the order a reader of the body meets them: the due date,
the supply's category and its export details, then each line in turn.

The parties are Protocols: the ORM rows (Company, Customer, GstSettings, ServiceType) and the
request's line bodies fit them as they are, so nothing is copied to compute."""

import dataclasses
import uuid
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal
from typing import Protocol

from app.domain import gst, zero_rated
from app.domain.errors import ReferenceMissing, RuleBroken

# Rule 46: an unregistered recipient's address must be shown from this taxable value on.
UNREGISTERED_ADDRESS_THRESHOLD = Decimal("50000")
UNIT_PRICE_PLACES = Decimal("0.0001")


class Supplier(Protocol):
    @property
    def gstin(self) -> str | None: ...
    @property
    def state_code(self) -> str: ...


class Recipient(Protocol):
    @property
    def gstin(self) -> str | None: ...
    @property
    def billing_state_code(self) -> str: ...
    @property
    def is_sez(self) -> bool: ...
    @property
    def payment_terms_days(self) -> int | None: ...
    @property
    def billing_address_line1(self) -> str | None: ...


class Settings(Protocol):
    @property
    def registration_type(self) -> str: ...
    @property
    def round_off_enabled(self) -> bool: ...
    @property
    def default_due_days(self) -> int: ...


class Service(Protocol):
    @property
    def name(self) -> str: ...
    @property
    def sac_hsn_code(self) -> str | None: ...
    @property
    def unit(self) -> str | None: ...
    @property
    def default_rate(self) -> Decimal | None: ...
    @property
    def default_gst_rate(self) -> Decimal | None: ...
    @property
    def is_active(self) -> bool: ...


class LineIn(Protocol):
    """A line as sent (price and rate may come from its service type; a product line arrives with
    its product's defaults applied, app.domain.product_lines) or as a draft stores it."""

    @property
    def service_type_id(self) -> uuid.UUID | None: ...
    @property
    def product_id(self) -> uuid.UUID | None: ...
    @property
    def description(self) -> str | None: ...
    @property
    def hsn_sac(self) -> str | None: ...
    @property
    def quantity(self) -> Decimal: ...
    @property
    def unit(self) -> str | None: ...
    @property
    def unit_price(self) -> Decimal | None: ...
    @property
    def discount(self) -> Decimal: ...
    @property
    def gst_rate(self) -> Decimal | None: ...


@dataclass(frozen=True)
class InvoiceIn:
    invoice_date: date  # already checked against the date window by the caller
    due_date: date | None
    place_of_supply: str | None
    reverse_charge: bool
    lines: Sequence[LineIn]
    zero_rating: zero_rated.ZeroRatingIn = dataclasses.field(default_factory=zero_rated.ZeroRatingIn)


@dataclass(frozen=True)
class ComputedLine:
    position: int
    service_type_id: uuid.UUID | None
    product_id: uuid.UUID | None
    description: str
    hsn_sac: str | None
    quantity: Decimal
    unit: str | None
    unit_price: Decimal
    discount: Decimal
    gst_rate: Decimal
    amounts: gst.LineAmounts

    def columns(self) -> dict[str, object]:
        """The invoice_lines columns of this line."""
        a = self.amounts
        return {
            "position": self.position,
            "service_type_id": self.service_type_id,
            "product_id": self.product_id,
            "description": self.description,
            "hsn_sac": self.hsn_sac,
            "quantity": self.quantity,
            "unit": self.unit,
            "unit_price": self.unit_price,
            "discount": self.discount,
            "gst_rate": self.gst_rate,
            "taxable_value": a.taxable_value,
            "cgst_amount": a.cgst_amount,
            "sgst_amount": a.sgst_amount,
            "utgst_amount": a.utgst_amount,
            "igst_amount": a.igst_amount,
            "total": a.total,
        }


@dataclass(frozen=True)
class ComputedInvoice:
    invoice_date: date
    due_date: date
    place_of_supply: str
    supply_type: gst.SupplyType
    document_type: gst.DocumentType
    supplier_registration: gst.Registration
    reverse_charge: bool
    totals: gst.DocumentTotals
    lines: list[ComputedLine]
    zero_rating: zero_rated.ZeroRating = zero_rated.REGULAR

    def columns(self) -> dict[str, object]:
        """The invoices columns the computation decides (amounts, dates, supply and document type,
        the zero-rating of an export or SEZ supply)."""
        return {
            "invoice_date": self.invoice_date,
            "due_date": self.due_date,
            "place_of_supply": self.place_of_supply,
            "supply_type": self.supply_type.value,
            "reverse_charge": self.reverse_charge,
            "document_type": self.document_type.value,
            "supplier_registration_type": self.supplier_registration.value,
            **self.zero_rating.columns(),
            **vars(self.totals),
        }


def compute_invoice(
    document: InvoiceIn,
    *,
    supplier: Supplier,
    recipient: Recipient,
    settings: Settings,
    rates_in_force: Collection[Decimal],
    services: Mapping[uuid.UUID, Service] | None,
) -> ComputedInvoice:
    """The whole invoice. `services` None: the lines are a stored draft's, already resolved (their
    price, rate and description were taken from their service types when the draft was written)."""
    invoice_date = document.invoice_date
    registration = gst.registration(supplier.gstin, settings.registration_type)
    due_date = document.due_date or invoice_date + timedelta(days=terms_days(recipient, settings))
    if due_date < invoice_date:
        raise RuleBroken("due_date", "The due date is before the invoice date.", code="due-before-invoice-date")
    zero_rating, place = zero_rated.resolve(
        document.zero_rating,
        registration=registration,
        place_of_supply=document.place_of_supply,
        recipient_state=recipient.billing_state_code,
        recipient_sez=recipient.is_sez,
        reverse_charge=document.reverse_charge,
        invoice_date=invoice_date,
        recipient_registered=recipient.gstin is not None,
    )
    # SEZ supplies are inter-state (IGST Act s.7(5)(b)); exports too (place of supply 96).
    supply = gst.supply_type(supplier.state_code, place, sez=recipient.is_sez or zero_rating.sez)
    lines = [
        _line(position, line, services, supply, place, invoice_date, registration, rates_in_force, zero_rating)
        for position, line in enumerate(document.lines, start=1)
    ]
    totals = gst.document_totals(
        [line.amounts for line in lines],
        round_to_rupee=settings.round_off_enabled,
        reverse_charge=document.reverse_charge,
    )
    document_type = gst.document_type(
        registration,
        [line.gst_rate for line in lines],
        zero_rated=zero_rating.zero_rated,
        recipient_registered=recipient.gstin is not None,
    )
    return ComputedInvoice(
        invoice_date,
        due_date,
        place,
        supply,
        document_type,
        registration,
        document.reverse_charge,
        totals,
        lines,
        zero_rating,
    )


def terms_days(recipient: Recipient, settings: Settings) -> int:
    return recipient.payment_terms_days if recipient.payment_terms_days is not None else settings.default_due_days


def check_rule_46(recipient: Recipient, taxable: Decimal) -> None:
    """Rule 46: an unregistered recipient billed the threshold or more must have an address shown."""
    if recipient.gstin is None and taxable >= UNREGISTERED_ADDRESS_THRESHOLD and not recipient.billing_address_line1:
        raise RuleBroken(
            "customer_id",
            "Rule 46: an unregistered customer billed ₹50,000 or more needs a billing address.",
            code="recipient-address-required",
        )


def _line(
    position: int,
    line: LineIn,
    services: Mapping[uuid.UUID, Service] | None,
    supply: gst.SupplyType,
    place: str,
    invoice_date: date,
    registration: gst.Registration,
    rates_in_force: Collection[Decimal],
    zero_rating: zero_rated.ZeroRating,
) -> ComputedLine:
    field = f"lines.{position - 1}"
    service = None if services is None else _service(line, services, field)
    # At the column's scale (4 places) whether sent or a service type's 2-place default, so the
    # create response shows what a later read does ("1500.0000", not "1500.00").
    price = _default(line.unit_price, service.default_rate if service else None, f"{field}.unit_price")
    unit_price = price.quantize(UNIT_PRICE_PLACES)
    gst_rate = _default(line.gst_rate, service.default_gst_rate if service else None, f"{field}.gst_rate")
    check_rate(gst_rate, invoice_date, registration, f"{field}.gst_rate", rates_in_force)
    if line.discount > line.quantity * unit_price:
        raise RuleBroken(f"{field}.discount", "The discount exceeds the line's value.", code="discount-too-large")
    taxable = gst.taxable_value(line.quantity, unit_price, line.discount)
    amounts = gst.line_tax(taxable, gst_rate, supply, place, without_tax=zero_rating.without_tax)
    return ComputedLine(
        position=position,
        service_type_id=line.service_type_id,
        product_id=line.product_id,
        description=line.description or (service.name if service else None) or "",
        hsn_sac=line.hsn_sac or (service.sac_hsn_code if service else None),
        quantity=line.quantity,
        unit=line.unit or (service.unit if service else None),
        unit_price=unit_price,
        discount=line.discount,
        gst_rate=gst_rate,
        amounts=amounts,
    )


def _service(line: LineIn, services: Mapping[uuid.UUID, Service], field: str) -> Service | None:
    if line.service_type_id is None:
        if line.description is None:
            raise RuleBroken(
                f"{field}.description", "A line needs a description or a service type.", code="description-required"
            )
        return None
    service = services.get(line.service_type_id)
    if service is None:
        raise ReferenceMissing(
            f"{field}.service_type_id", "No service type with this id.", code="service-type-not-found"
        )
    if not service.is_active:
        raise RuleBroken(f"{field}.service_type_id", "The service type is inactive.", code="service-type-inactive")
    return service


def _default(value: Decimal | None, fallback: Decimal | None, field: str) -> Decimal:
    if value is not None:
        return value
    if fallback is None:
        name = field.rsplit(".", 1)[-1]
        raise RuleBroken(
            field, f"A line without a service type needs {name}.", code=f"{name.replace('_', '-')}-required"
        )
    return fallback


def check_rate(
    rate: Decimal, day: date, registration: gst.Registration, field: str, rates_in_force: Collection[Decimal]
) -> None:
    """A rate a line may charge: none for a composition or unregistered supplier, else one of the
    tenant's rates in force on the document's date."""
    if registration is gst.Registration.composition and rate != 0:
        raise RuleBroken(field, "A composition taxpayer cannot charge GST (bill of supply).", code="composition-no-tax")
    if registration is gst.Registration.unregistered and rate != 0:
        raise RuleBroken(
            field,
            "A company without a GSTIN is not registered and cannot charge GST (s.32): "
            "its documents are bills of supply.",
            code="unregistered-no-tax",
        )
    if rate not in rates_in_force:
        raise RuleBroken(
            field, f"{rate}% is not one of your tax rates in force on {day}.", code="gst-rate-not-in-force"
        )
