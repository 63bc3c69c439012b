"""Quick sale at the counter: POST /sales (app/services/commerce/sales.py)."""

from typing import Any

from fastapi import APIRouter, status

from app.api.deps import ContextDep, SessionDep, WriterUser
from app.api.idempotency import RequiredIdempotentDep
from app.domain.gst import title_and_declaration
from app.models.identity.user import UserRole
from app.schemas.commerce.sales import SaleCreate, SaleLineRead, SaleRead, SaleReceiptRead, ShareRead
from app.schemas.common import problem_responses
from app.services.commerce import sales
from app.services.commerce.sales import Sale

router = APIRouter(prefix="/sales", tags=["sales"], responses=problem_responses(401, 422))
OVERRIDERS = {UserRole.owner.value, UserRole.admin.value}
# 400: a rule no schema states: payments short without on_credit (`sale-underpaid`), over the total
# other than in cash (`overpayment-not-cash`), credit without a customer (`credit-needs-customer`),
# a quantity finer than its unit (`quantity-too-precise`), an invoice rule (rate not in force,
# archived customer or company, a walk-in sale of ₹50,000 or more: `recipient-address-required`);
# 403: a viewer, or an accountant asking to override a credit limit; 404: a company, customer or
# product (id or barcode) not found here; 409: not enough stock (`insufficient-stock`, each short
# line), an archived product, the credit limit (`credit-limit-exceeded`), or the Idempotency-Key
# still in flight; 422: the body's schema (no Idempotency-Key, both or neither of product_id and
# barcode, a zero quantity ...), or the same Idempotency-Key with another body.
ERRORS = problem_responses(400, 403, 404, 409)


@router.post("", status_code=status.HTTP_201_CREATED, response_model=SaleRead, responses=ERRORS)
async def create_sale(
    body: SaleCreate, user: WriterUser, session: SessionDep, ctx: ContextDep, idempotent: RequiredIdempotentDep
) -> Any:
    """Sell across the counter in one call and one transaction: the invoice is created and issued
    (numbered from the company's series; each product line takes its stock, all or nothing), each
    payment is a receipt allocated to it, and what they leave unpaid goes on the customer's account
    (udhaar: `on_credit: true` and a named customer, within their credit limit unless an owner or
    admin overrides it). Without `customer_id` the sale is to the company's walk-in customer (B2C,
    paid in full). Cash beyond the total is change (`change_due`); place of supply: the shop's state.
    The answer has what a counter screen prints or shares: number, lines, totals, change, udhaar,
    the customer's balance, the receipts, the PDF and a share link with its WhatsApp message.

    `Idempotency-Key` is required: a counter's network drops, and a retry with the same key returns
    the same sale instead of selling twice."""

    async def sell() -> SaleRead:
        may_override = user.role in OVERRIDERS
        return _read(await sales.create(session, ctx, body=body, may_override_credit_limit=may_override))

    return await idempotent(201, sell)


def _read(sale: Sale) -> SaleRead:
    invoice, settlement, link = sale.invoice, sale.settlement, sale.share
    lines = [
        SaleLineRead(
            position=line.position,
            product_id=line.product_id,
            description=line.description,
            hsn_sac=line.hsn_sac,
            quantity=line.quantity,
            unit=line.unit,
            unit_price=line.unit_price,
            discount=line.discount,
            gst_rate=line.gst_rate,
            taxable_value=line.taxable_value,
            tax=line.cgst_amount + line.sgst_amount + line.utgst_amount + line.igst_amount,
            total=line.total,
        )
        for line in invoice.lines
    ]
    receipts = [
        SaleReceiptRead(id=r.id, number=r.number, mode=r.mode, amount=r.amount, reference=r.reference)
        for r in sale.receipts
    ]
    return SaleRead(
        invoice_id=invoice.id,
        number=invoice.number,
        invoice_date=invoice.invoice_date,
        title=title_and_declaration(invoice.document_type, invoice.supplier_registration_type)[0],
        company_id=invoice.company_id,
        customer_id=invoice.customer_id,
        customer_name=sale.customer.name,
        walk_in=sale.walk_in,
        place_of_supply=invoice.place_of_supply,
        supply_type=invoice.supply_type,
        lines=lines,
        taxable_value=invoice.taxable_value,
        cgst_amount=invoice.cgst_amount,
        sgst_amount=invoice.sgst_amount,
        utgst_amount=invoice.utgst_amount,
        igst_amount=invoice.igst_amount,
        tax_total=invoice.tax_total,
        round_off=invoice.round_off,
        total=invoice.total,
        tendered=settlement.tendered,
        paid=settlement.paid,
        change_due=settlement.change,
        on_credit=settlement.unpaid,
        customer_balance=sale.customer_balance,
        credit_limit_overridden=sale.credit_limit_overridden,
        receipts=receipts,
        pdf_url=f"/api/v1/invoices/{invoice.id}/pdf",
        share=ShareRead(
            id=link.id,
            url=link.url,
            pdf_url=f"{link.url}/pdf",
            whatsapp_url=link.whatsapp_url,
            expires_at=link.expires_at,
        ),
    )
