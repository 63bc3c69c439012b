"""A tax invoice, bill of supply or invoice-cum-bill of supply as a PDF, with every field of CGST
Rule 46 (and 46A, 49): supplier and recipient with GSTIN or "Unregistered" and state name and code,
number and date, place of supply, per line HSN/SAC, quantity and UQC, rate, value, discount, taxable
value and each tax component's rate and amount, totals with round-off, the amount in words, reverse
charge Yes/No, the export / SEZ endorsement, the composition declaration, the copy marker and the
authorised signatory. Totals, words and signatory come once, after the last line."""

from decimal import Decimal

from reportlab.platypus import Flowable, KeepTogether, Paragraph, Spacer, Table

from app.rendering import formatting
from app.rendering.blocks import boxes, line_table, signatory, totals_table, upi_block
from app.rendering.layout import CONTENT_WIDTH, RULE, Page, build, escape, party_lines, style, table
from app.rendering.views import Copy, InvoiceView, TaxColumns

SUPPLY_TYPES = {"intra_state": "Intra-State", "inter_state": "Inter-State"}
ZERO = Decimal("0.00")


def render_invoice(view: InvoiceView, *, copy: Copy = Copy.original) -> bytes:
    """The invoice's PDF. The same view and copy always give the same bytes."""
    watermark = "DRAFT" if view.is_draft else "VOID" if view.is_void else None
    page = Page(
        title=view.title,
        number=view.display_number,
        date_text=formatting.day(view.invoice_date),
        supplier=view.supplier,
        issued_at=view.issued_at,
        copy_label=copy.label,
        watermark=watermark,
        footer_brand=view.footer_brand,
        logo=view.logo,
        subject=f"{view.title} for {view.recipient.legal_name}",
    )
    return build(page, story(view, copy))


def story(view: InvoiceView, copy: Copy) -> list[Flowable]:
    flow: list[Flowable] = [
        boxes(party_lines(view.supplier), _details(view, copy), titles=("Supplier", f"{view.title} details")),
        Spacer(1, 4),
        _parties(view),
    ]
    if view.export is not None:
        flow += [Spacer(1, 4), _export(view)]
    flow += [Spacer(1, 6), line_table(view.lines, view.tax_columns), Spacer(1, 6), KeepTogether(_closing(view))]
    return flow


def _details(view: InvoiceView, copy: Copy) -> list[str]:
    number = escape(view.number) if view.number else "DRAFT (not yet issued)"
    lines = [
        f"{view.title} No.: <b>{number}</b>",
        f"{view.title} Date: <b>{formatting.day(view.invoice_date)}</b>",
    ]
    if view.due_date is not None:
        lines.append(f"Due Date: {formatting.day(view.due_date)}")
    lines += [
        f"Place of Supply: <b>{escape(view.place_of_supply_label)}</b>",
        f"Supply Type: {SUPPLY_TYPES.get(view.supply_type, view.supply_type)}",
        f"Whether tax is payable on reverse charge: <b>{'Yes' if view.reverse_charge else 'No'}</b>",
        f"Copy: {copy.label}",
    ]
    return lines


def _parties(view: InvoiceView) -> Table:
    bill_to = party_lines(view.recipient)
    if view.shipping is None:
        return boxes(bill_to, titles=("Bill to (Recipient)",), widths=[CONTENT_WIDTH])
    ship_to = party_lines(view.shipping, gstin=view.shipping.gstin is not None)
    return boxes(bill_to, ship_to, titles=("Bill to (Recipient)", "Ship to (Delivery address)"))


def _export(view: InvoiceView) -> Table:
    export = view.export
    assert export is not None
    lines = [f"Country of destination: <b>{escape(export.destination_country)}</b>"]
    if export.port_code:
        lines.append(f"Port code: {escape(export.port_code)}")
    if export.shipping_bill_number:
        bill = escape(export.shipping_bill_number)
        if export.shipping_bill_date is not None:
            bill += f" dated {formatting.day(export.shipping_bill_date)}"
        lines.append(f"Shipping bill No.: {bill}")
    return boxes(lines, titles=("Export details",), widths=[CONTENT_WIDTH])


def _totals(view: InvoiceView) -> list[tuple[str, Decimal, bool]]:
    rows = [("Taxable Value", view.taxable_value, False)]
    tax = view.tax_columns
    if tax in (TaxColumns.cgst_sgst, TaxColumns.cgst_utgst):
        rows.append(("CGST", view.cgst_amount, False))
    if tax is TaxColumns.cgst_sgst:
        rows.append(("SGST", view.sgst_amount, False))
    if tax is TaxColumns.cgst_utgst:
        rows.append(("UTGST", view.utgst_amount, False))
    if tax is TaxColumns.igst:
        rows.append(("IGST", view.igst_amount, False))
    if tax is not TaxColumns.none:
        rows.append(("Total Tax", view.tax_total, False))
    if view.round_off != ZERO:
        rows.append(("Round Off", view.round_off, False))
    rows.append(("Total", view.total, True))
    if not view.is_draft and (view.amount_paid or view.amount_credited):
        if view.amount_paid:
            rows.append(("Amount Paid", view.amount_paid, False))
        if view.amount_credited:
            rows.append(("Credited", view.amount_credited, False))
        rows.append(("Balance Due", view.balance_due, True))
    return rows


def _closing(view: InvoiceView) -> list[Flowable]:
    """Everything after the last line, kept together on the last page."""
    left: list[Flowable] = [
        Paragraph("<b>Amount in words</b>", style(7, grey=True)),
        Paragraph(f"<b>{escape(view.words)}</b>", style(8.5)),
    ]
    if view.reverse_charge:
        left.append(Spacer(1, 4))
        left.append(Paragraph("Tax on this supply is payable by the recipient under reverse charge.", style(7.5)))
    if view.bank is not None:
        bank = view.bank
        details = [
            f"{label}: {escape(value)}"
            for label, value in (
                ("Account name", bank.account_name),
                ("Account No.", bank.account_number),
                ("IFSC", bank.ifsc),
                ("Bank", bank.bank_name),
            )
            if value
        ]
        if details:
            left.append(Spacer(1, 4))
            left.append(Paragraph("<b>Bank details</b>", style(7, grey=True)))
            left += [Paragraph(line, style(7.5)) for line in details]
    summary = table(
        [[left, totals_table(_totals(view))]],
        [CONTENT_WIDTH - 240, 240],
        [("VALIGN", (0, 0), (-1, -1), "TOP"), ("LEFTPADDING", (0, 0), (-1, -1), 0)],
    )
    flow: list[Flowable] = [summary]
    for text in (view.endorsement, view.declaration):
        if text:
            flow += [Spacer(1, 5), _notice(text)]
    if view.upi_link:
        flow += [Spacer(1, 6), upi_block(view.upi_link, view.balance_due or view.total)]
    for title, text in (("Notes", view.notes), ("Terms and conditions", view.terms)):
        if text:
            flow += [
                Spacer(1, 4),
                Paragraph(f"<b>{title}</b>", style(7, grey=True)),
                Paragraph(escape(text), style(7.5)),
            ]
    flow += signatory(view.supplier.legal_name)
    return flow


def _notice(text: str) -> Table:
    """A boxed statement the law asks for (endorsement, declaration)."""
    return table(
        [[Paragraph(f"<b>{escape(text)}</b>", style(8))]], [CONTENT_WIDTH], [("BOX", (0, 0), (-1, -1), 0.6, RULE)]
    )
