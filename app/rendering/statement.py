"""A statement of account as a PDF: the customer's ledger over a period, opening balance, every
entry with its running balance, closing balance (opening + debits - credits) and an aging summary.
The entries table repeats its header on every page; the summary comes once, at the end."""

from reportlab.platypus import Flowable, KeepTogether, Paragraph, Spacer

from app.rendering import formatting
from app.rendering.blocks import boxes, totals_table
from app.rendering.layout import BOLD, CONTENT_WIDTH, FONT, RULE, SHADE, Page, build, escape, party_lines, style, table
from app.rendering.views import StatementView

HEAD = ["Date", "Document", "Description", "Debit (₹)", "Credit (₹)", "Balance (₹)"]


def render_statement(view: StatementView) -> bytes:
    """The statement's PDF. The same view always gives the same bytes."""
    period = f"{formatting.day(view.period_from)} to {formatting.day(view.period_to)}"
    page = Page(
        title=view.title,
        number=view.customer.legal_name,
        date_text=formatting.day(view.period_to),
        supplier=view.company,
        issued_at=view.issued_at,
        footer_brand=view.footer_brand,
        logo=view.logo,
        subject=f"Statement of account, {period}",
        reference=f"{view.customer.legal_name[:50]}    {period}",
    )
    return build(page, _story(view, period))


def _story(view: StatementView, period: str) -> list[Flowable]:
    details = [
        f"Period: <b>{period}</b>",
        f"Opening balance: <b>{escape(formatting.rupees(view.opening_balance))}</b>",
        f"Closing balance: <b>{escape(formatting.rupees(view.closing_balance))}</b>",
        "A negative balance is an advance held for the customer.",
    ]
    rows: list[list[object]] = [
        list(HEAD),
        ["", "", "Opening balance", "", "", formatting.amount(view.opening_balance)],
    ]
    body = style(7.5)
    for entry in view.entries:
        rows.append(
            [
                formatting.day(entry.entry_date),
                entry.document,
                Paragraph(escape(entry.description), body),
                formatting.amount(entry.debit) if entry.debit else "",
                formatting.amount(entry.credit) if entry.credit else "",
                formatting.amount(entry.balance),
            ]
        )
    rows.append(
        [
            "",
            "",
            "Closing balance",
            formatting.amount(view.total_debits),
            formatting.amount(view.total_credits),
            formatting.amount(view.closing_balance),
        ]
    )
    widths = [62, 90, CONTENT_WIDTH - 62 - 90 - 3 * 75, 75, 75, 75]
    ledger = table(
        rows,
        widths,
        [
            ("FONT", (0, 0), (-1, -1), FONT, 7.5),
            ("FONT", (0, 0), (-1, 0), BOLD, 7.5),
            ("FONT", (0, -1), (-1, -1), BOLD, 7.5),
            ("FONT", (0, 1), (-1, 1), BOLD, 7.5),
            ("BACKGROUND", (0, 0), (-1, 0), SHADE),
            ("GRID", (0, 0), (-1, -1), 0.4, RULE),
            ("VALIGN", (0, 0), (-1, -1), "TOP"),
            ("ALIGN", (3, 0), (-1, -1), "RIGHT"),
        ],
        repeatRows=1,
    )
    flow: list[Flowable] = [
        boxes(party_lines(view.customer), details, titles=("Customer", "Statement")),
        Spacer(1, 6),
        ledger,
        Spacer(1, 8),
    ]
    closing: list[Flowable] = [
        totals_table(
            [
                ("Opening balance", view.opening_balance, False),
                ("Total debits", view.total_debits, False),
                ("Total credits", view.total_credits, False),
                ("Closing balance", view.closing_balance, True),
            ]
        )
    ]
    if view.aging is not None:
        aging = view.aging
        labels = ["Current", "1-30 days", "31-60 days", "61-90 days", "Over 90 days", "Total due"]
        values = [aging.current, aging.days_1_30, aging.days_31_60, aging.days_61_90, aging.days_over_90, aging.total]
        closing += [
            Spacer(1, 8),
            Paragraph(f"<b>Aging of amounts due as of {formatting.day(view.period_to)}</b>", style(7, grey=True)),
            table(
                [labels, [formatting.rupees(value) for value in values]],
                [CONTENT_WIDTH / 6] * 6,
                [
                    ("FONT", (0, 0), (-1, 0), BOLD, 7.5),
                    ("BACKGROUND", (0, 0), (-1, 0), SHADE),
                    ("GRID", (0, 0), (-1, -1), 0.4, RULE),
                    ("ALIGN", (0, 0), (-1, -1), "RIGHT"),
                ],
            ),
        ]
    if view.notes:
        closing += [Spacer(1, 6), Paragraph(escape(view.notes), style(7.5))]
    flow.append(KeepTogether(closing))
    return flow
