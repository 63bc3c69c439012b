"""Documents as PDFs: GET /invoices/{id}/pdf, /credit-notes/{id}/pdf, /receipts/{id}/pdf and
/customers/{id}/statement.pdf. Every member of the tenant may read them; another tenant's id is a
404. Headers and 304s: app/api/pdf_responses.py; rendering and caching: app/services/documents/document_pdfs.py."""

import uuid
from typing import Annotated

from fastapi import APIRouter, Query, Request, Response

from app.api.deps import ContextDep, CurrentUser, SessionDep
from app.api.pdf_responses import PDF_RESPONSES, PdfResponse, pdf_response
from app.schemas.billing.business_fields import IsoDate
from app.schemas.common import problem_responses
from app.services.documents import document_pdfs
from app.services.documents.document_pdfs import Copy

router = APIRouter(responses=problem_responses(401, 422))
RESPONSES = {**PDF_RESPONSES, **problem_responses(404)}
CopyQuery = Annotated[
    Copy,
    Query(
        description="Which copy (CGST Rule 48): original for recipient, duplicate for transporter, "
        "triplicate for supplier; its marker prints on every page."
    ),
]


@router.get("/invoices/{invoice_id:uuid}/pdf", tags=["invoices"], response_class=PdfResponse, responses=RESPONSES)
async def invoice_pdf(
    invoice_id: uuid.UUID,
    request: Request,
    _: CurrentUser,
    session: SessionDep,
    ctx: ContextDep,
    copy: CopyQuery = Copy.original,
) -> Response:
    """The invoice as a PDF: a tax invoice, bill of supply or invoice-cum-bill of supply with every
    field of CGST Rule 46, and a UPI QR while something is due (when the company has a UPI VPA).
    A draft is a preview watermarked DRAFT. Send the `ETag` back as `If-None-Match` for a 304."""
    return pdf_response(request, await document_pdfs.invoice_pdf(session, ctx, invoice_id, copy=copy))


@router.get(
    "/credit-notes/{credit_note_id:uuid}/pdf", tags=["credit notes"], response_class=PdfResponse, responses=RESPONSES
)
async def credit_note_pdf(
    credit_note_id: uuid.UUID,
    request: Request,
    _: CurrentUser,
    session: SessionDep,
    ctx: ContextDep,
    copy: CopyQuery = Copy.original,
) -> Response:
    """The credit note as a PDF (CGST Rule 53: its number and date, the original invoice's)."""
    return pdf_response(request, await document_pdfs.credit_note_pdf(session, ctx, credit_note_id, copy=copy))


@router.get("/receipts/{receipt_id:uuid}/pdf", tags=["receipts"], response_class=PdfResponse, responses=RESPONSES)
async def receipt_pdf(
    receipt_id: uuid.UUID, request: Request, _: CurrentUser, session: SessionDep, ctx: ContextDep
) -> Response:
    """The receipt voucher as a PDF: the amount received, in words, and the invoices it settles."""
    return pdf_response(request, await document_pdfs.receipt_pdf(session, ctx, receipt_id))


@router.get(
    "/customers/{customer_id:uuid}/statement.pdf",
    tags=["customers"],
    response_class=PdfResponse,
    responses={**RESPONSES, **problem_responses(400)},
)
async def statement_pdf(
    customer_id: uuid.UUID,
    request: Request,
    _: CurrentUser,
    session: SessionDep,
    ctx: ContextDep,
    date_from: Annotated[
        IsoDate | None, Query(alias="from", description="First day; defaults to the start of the financial year.")
    ] = None,
    date_to: Annotated[IsoDate | None, Query(alias="to", description="Last day; defaults to today (India).")] = None,
) -> Response:
    """The customer's statement of account from the ledger: the balance brought forward, every
    entry of the period with the running balance, the closing balance and the aging of what was
    open on `to`. `from` after `to` is a 400 `invalid-date-range`, as for the ledger."""
    pdf = await document_pdfs.statement_pdf(session, ctx, customer_id, start=date_from, end=date_to)
    return pdf_response(request, pdf)
