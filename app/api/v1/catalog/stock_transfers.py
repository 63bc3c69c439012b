"""POST /stock/transfers: goods between two companies of the business, with the GST paperwork."""

from typing import Any

from fastapi import APIRouter, status

from app.api.deps import ContextDep, SessionDep, WriterUser
from app.api.idempotency import IdempotentDep
from app.schemas.catalog.stock_transfers import StockTransferIn, StockTransferLineRead, StockTransferRead
from app.schemas.common import problem_responses
from app.services.catalog import stock_transfers
from app.services.catalog.stock_transfers import Transfer

router = APIRouter(prefix="/stock", tags=["stock"], responses=problem_responses(401, 422))


@router.post(
    "/transfers",
    status_code=status.HTTP_201_CREATED,
    response_model=StockTransferRead,
    responses=problem_responses(400, 403, 404, 409),
)
async def create_transfer(
    body: StockTransferIn, _: WriterUser, session: SessionDep, ctx: ContextDep, idempotent: IdempotentDep
) -> Any:
    """Move goods from one company of the business to another, in one transaction: all the lines or
    none (409 `insufficient-stock` names each short line and what is available).

    Between two GST registrations (both companies have a GSTIN) the transfer is a supply (CGST Act
    s.25(4), Schedule I para 2): a tax invoice from the source to the destination is issued with it
    (`invoice_id`), valued at each line's `unit_value` or else the product's purchase cost (CGST
    Rules, rule 28; 422 `transfer-value-required` with neither), CGST + SGST within a state, IGST
    across. Between two unregistered companies of one person it is no supply: no invoice, this
    document is the delivery challan (rule 55). One registered and one not: 422
    `transfer-registration-mismatch`. Supports `Idempotency-Key`."""

    async def create() -> StockTransferRead:
        return _read(await stock_transfers.create(session, ctx, body=body))

    return await idempotent(201, create)


def _read(transfer: Transfer) -> StockTransferRead:
    document, invoice = transfer.document, transfer.invoice
    return StockTransferRead(
        id=document.id,
        from_company_id=document.company_id,
        to_company_id=document.to_company_id or document.company_id,
        document_date=document.document_date,
        paperwork=transfer.paperwork,
        invoice_id=invoice.id if invoice is not None else None,
        invoice_number=invoice.number if invoice is not None else None,
        notes=document.notes,
        lines=[
            StockTransferLineRead(
                position=line.position,
                product_id=line.product.id,
                product_name=line.product.name,
                sku=line.product.sku,
                unit=line.product.unit,
                quantity=line.quantity,
                unit_value=line.unit_value,
                on_hand_from=line.on_hand_from,
                on_hand_to=line.on_hand_to,
            )
            for line in transfer.lines
        ],
        created_at=document.created_at,
    )
