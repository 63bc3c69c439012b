"""What a document prints: plain frozen dataclasses, built by the services from issued documents
(app/services/documents/document_pdfs.py) and turned into bytes by the renderers of this package.

Everything a renderer needs is here and nothing else: no database rows, no settings. Values that
follow from the law are derived from what was frozen at issue (the title and the composition
declaration from `document_type` and `supplier_registration_type`, state names from codes, the tax
columns from the supply type and place of supply), so the caller cannot get them wrong."""

from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from enum import StrEnum

from app.domain.gst import (
    EXPORT_PLACE_OF_SUPPLY,
    STATE_CODES,
    UTGST_STATES,
    DocumentType,
    SupplyType,
    money,
    title_and_declaration,
)
from app.domain.words import amount_in_words

ZERO = Decimal("0.00")
UNREGISTERED = "Unregistered"
BRAND = "Made with RMS Billing"


class Copy(StrEnum):
    """Which copy of a tax invoice (Rule 48(4)): printed top right of every page."""

    original = "original"
    duplicate = "duplicate"
    triplicate = "triplicate"

    @property
    def label(self) -> str:
        return COPY_LABELS[self]


COPY_LABELS = {
    Copy.original: "Original for Recipient",
    Copy.duplicate: "Duplicate for Transporter",
    Copy.triplicate: "Triplicate for Supplier",
}


class TaxColumns(StrEnum):
    """The tax components a document's table shows."""

    cgst_sgst = "cgst_sgst"
    cgst_utgst = "cgst_utgst"
    igst = "igst"
    none = "none"  # a bill of supply: no tax


def state_name(code: str | None) -> str | None:
    return None if code is None else STATE_CODES.get(code, code)


def state_label(code: str | None) -> str:
    """'Karnataka (29)': a state as Rule 46 asks for it, name and code."""
    if code is None:
        return "-"
    return f"{state_name(code)} ({code})"


def tax_columns(document_type: str, supply_type: str, place_of_supply: str) -> TaxColumns:
    if DocumentType(document_type) is DocumentType.bill_of_supply:
        return TaxColumns.none
    if SupplyType(supply_type) is SupplyType.inter_state or place_of_supply == EXPORT_PLACE_OF_SUPPLY:
        return TaxColumns.igst
    return TaxColumns.cgst_utgst if place_of_supply in UTGST_STATES else TaxColumns.cgst_sgst


@dataclass(frozen=True)
class Party:
    """A supplier or recipient as the document showed it when issued."""

    legal_name: str
    trade_name: str | None = None
    address_lines: tuple[str, ...] = ()
    city: str | None = None
    pincode: str | None = None
    state_code: str | None = None
    gstin: str | None = None  # None prints "Unregistered"
    phone: str | None = None
    email: str | None = None
    pan: str | None = None
    country: str | None = None  # a foreign recipient (export)

    @property
    def state_name(self) -> str | None:
        return state_name(self.state_code)

    @property
    def state_label(self) -> str:
        return state_label(self.state_code)

    @property
    def gstin_label(self) -> str:
        return self.gstin or UNREGISTERED

    @property
    def city_line(self) -> str | None:
        parts = [part for part in (self.city, self.pincode) if part]
        line = " - ".join(parts)
        if self.country:
            line = f"{line}, {self.country}" if line else self.country
        return line or None


@dataclass(frozen=True)
class BankDetails:
    account_name: str | None = None
    account_number: str | None = None
    ifsc: str | None = None
    bank_name: str | None = None


@dataclass(frozen=True)
class ExportDetails:
    """Rule 46 for exports: the destination country, and when known the port and shipping bill."""

    destination_country: str
    port_code: str | None = None
    shipping_bill_number: str | None = None
    shipping_bill_date: date | None = None


@dataclass(frozen=True)
class InvoiceLineView:
    position: int
    description: str
    hsn_sac: str | None
    quantity: Decimal
    unit: str | None  # UQC, e.g. NOS, KGS, HRS
    unit_price: Decimal
    discount: Decimal
    taxable_value: Decimal
    gst_rate: Decimal
    cgst_amount: Decimal = ZERO
    sgst_amount: Decimal = ZERO
    utgst_amount: Decimal = ZERO
    igst_amount: Decimal = ZERO
    total: Decimal = ZERO  # taxable value + tax

    @property
    def total_value(self) -> Decimal:
        """Quantity x unit price, before discount (Rule 46(i) 'total value')."""
        return money(self.quantity * self.unit_price)

    @property
    def half_rate(self) -> Decimal:
        """The CGST rate and the SGST/UTGST rate of an intra-state line: half the GST rate each."""
        return self.gst_rate / 2

    def component_rate(self, component: str) -> Decimal:
        """The rate of 'cgst', 'sgst', 'utgst' or 'igst' on this line."""
        return self.gst_rate if component == "igst" else self.half_rate


@dataclass(frozen=True)
class InvoiceView:
    """A tax invoice, bill of supply or invoice-cum-bill of supply as printed (Rules 46, 46A, 49)."""

    document_type: str  # app.domain.gst.DocumentType value
    supplier_registration_type: str  # regular / composition / unregistered, frozen at issue
    number: str | None  # None: a draft (watermarked DRAFT)
    invoice_date: date
    due_date: date | None
    supplier: Party
    recipient: Party
    place_of_supply: str  # state code, 96 for exports
    supply_type: str  # intra_state / inter_state
    reverse_charge: bool
    lines: tuple[InvoiceLineView, ...]
    taxable_value: Decimal
    cgst_amount: Decimal
    sgst_amount: Decimal
    utgst_amount: Decimal
    igst_amount: Decimal
    tax_total: Decimal
    round_off: Decimal
    total: Decimal
    issued_at: datetime  # the PDF's creation date: the same document always renders the same bytes
    status: str = "issued"
    amount_paid: Decimal = ZERO
    amount_credited: Decimal = ZERO
    balance_due: Decimal = ZERO
    amount_in_words: str | None = None  # computed from `total` when None
    shipping: Party | None = None  # delivery address, when it differs from the recipient's
    notes: str | None = None
    terms: str | None = None
    bank: BankDetails | None = None
    endorsement: str | None = None  # exports / SEZ (Rule 46): "supply meant for export ..."
    export: ExportDetails | None = None
    upi_link: str | None = None  # printed as a QR with the link beside it; the caller decides when payable
    logo: bytes | None = None  # PNG or JPEG
    footer_brand: str | None = None  # "Made with RMS Billing" on trial and free plans
    version: int = 1
    computer_generated_note: bool = True

    @property
    def title(self) -> str:
        return title_and_declaration(self.document_type, self.supplier_registration_type)[0]

    @property
    def declaration(self) -> str | None:
        """The composition (or unregistered supplier) declaration, only on a bill of supply."""
        if DocumentType(self.document_type) is DocumentType.tax_invoice:
            return None
        return title_and_declaration(self.document_type, self.supplier_registration_type)[1]

    @property
    def is_draft(self) -> bool:
        return self.number is None or self.status == "draft"

    @property
    def is_void(self) -> bool:
        return self.status == "void"

    @property
    def words(self) -> str:
        return self.amount_in_words or amount_in_words(self.total)

    @property
    def tax_columns(self) -> TaxColumns:
        return tax_columns(self.document_type, self.supply_type, self.place_of_supply)

    @property
    def place_of_supply_label(self) -> str:
        return state_label(self.place_of_supply)

    @property
    def display_number(self) -> str:
        return self.number or "DRAFT"


@dataclass(frozen=True)
class CreditNoteView:
    """A credit note (Rule 53): its own number and date, the original invoice's number and date."""

    number: str
    credit_note_date: date
    invoice_number: str
    invoice_date: date
    reason: str
    supplier: Party
    recipient: Party
    place_of_supply: str
    supply_type: str
    lines: tuple[InvoiceLineView, ...]
    taxable_value: Decimal
    cgst_amount: Decimal
    sgst_amount: Decimal
    utgst_amount: Decimal
    igst_amount: Decimal
    tax_total: Decimal
    round_off: Decimal
    total: Decimal
    issued_at: datetime
    document_type: str = DocumentType.tax_invoice.value  # the original invoice's: a bill of supply has no tax
    reverse_charge: bool = False
    status: str = "issued"
    amount_in_words: str | None = None
    notes: str | None = None
    logo: bytes | None = None
    footer_brand: str | None = None
    version: int = 1

    @property
    def title(self) -> str:
        return "Credit Note"

    @property
    def words(self) -> str:
        return self.amount_in_words or amount_in_words(self.total)

    @property
    def tax_columns(self) -> TaxColumns:
        return tax_columns(self.document_type, self.supply_type, self.place_of_supply)

    @property
    def place_of_supply_label(self) -> str:
        return state_label(self.place_of_supply)

    @property
    def is_void(self) -> bool:
        return self.status == "void"


@dataclass(frozen=True)
class AllocationView:
    invoice_number: str
    invoice_date: date | None
    amount: Decimal


@dataclass(frozen=True)
class ReceiptView:
    """A receipt voucher: money received from a customer and the invoices it settles."""

    number: str
    receipt_date: date
    supplier: Party  # the company receiving
    received_from: Party
    amount: Decimal
    mode: str  # cash, upi, bank_transfer, cheque, card...
    issued_at: datetime
    reference: str | None = None
    notes: str | None = None
    allocations: tuple[AllocationView, ...] = ()
    status: str = "active"
    amount_in_words: str | None = None
    logo: bytes | None = None
    footer_brand: str | None = None
    version: int = 1

    @property
    def title(self) -> str:
        return "Receipt Voucher"

    @property
    def words(self) -> str:
        return self.amount_in_words or amount_in_words(self.amount)

    @property
    def allocated(self) -> Decimal:
        return sum((allocation.amount for allocation in self.allocations), ZERO)

    @property
    def unallocated(self) -> Decimal:
        """Kept as an advance against future invoices."""
        return self.amount - self.allocated

    @property
    def is_void(self) -> bool:
        return self.status == "void"


@dataclass(frozen=True)
class StatementEntry:
    entry_date: date
    document: str  # the document number
    description: str
    debit: Decimal
    credit: Decimal
    balance: Decimal  # running balance after this entry


@dataclass(frozen=True)
class AgingSummary:
    """What the customer owes by age past the due date, as of the statement's end."""

    current: Decimal
    days_1_30: Decimal
    days_31_60: Decimal
    days_61_90: Decimal
    days_over_90: Decimal

    @property
    def total(self) -> Decimal:
        return self.current + self.days_1_30 + self.days_31_60 + self.days_61_90 + self.days_over_90


@dataclass(frozen=True)
class StatementView:
    """A statement of account from the customer's ledger over a period."""

    company: Party
    customer: Party
    period_from: date
    period_to: date
    opening_balance: Decimal
    closing_balance: Decimal
    issued_at: datetime
    entries: tuple[StatementEntry, ...] = ()
    aging: AgingSummary | None = None
    logo: bytes | None = None
    footer_brand: str | None = None
    notes: str | None = None
    version: int = 1

    @property
    def title(self) -> str:
        return "Statement of Account"

    @property
    def total_debits(self) -> Decimal:
        return sum((entry.debit for entry in self.entries), ZERO)

    @property
    def total_credits(self) -> Decimal:
        return sum((entry.credit for entry in self.entries), ZERO)
