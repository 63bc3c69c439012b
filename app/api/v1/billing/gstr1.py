"""GSTR-1 (any member of the tenant reads): a month's return for one of the tenant's companies in
the GSTN offline tool / API JSON or as the tool's Excel sheets, and its summary per section."""

import uuid
from typing import Annotated, Any

from fastapi import APIRouter, Query, Response
from fastapi.responses import JSONResponse

from app.api.deps import ContextDep, CurrentUser, SessionDep
from app.schemas.billing.gstr1 import Gstr1Format, Gstr1Summary
from app.schemas.common import problem_responses
from app.services.billing import gstr1, gstr1_xlsx

router = APIRouter(prefix="/gst", tags=["gst returns"], responses=problem_responses(401, 422))
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
# 400: a period before July 2017 or after this month, a company without a GSTIN; 404: not the tenant's company.
ERRORS = problem_responses(400, 404)
CompanyId = Annotated[uuid.UUID, Query(description="One of the tenant's companies (its GSTIN files the return).")]
Period = Annotated[
    str,
    Query(
        pattern=gstr1.PERIOD_PATTERN,
        description="The month, YYYY-MM: from 2017-07 to the current month (India).",
        examples=["2026-11"],
    ),
]
RETURN_RESPONSES: dict[int | str, dict[str, Any]] = {
    200: {
        "description": "The return: GSTN JSON (numbers, dates dd-mm-yyyy; sections with nothing to report "
        "left out), validated in the tests against tests/api/v1/gstr1.schema.json; or, with "
        "format=xlsx, the offline tool's sheets.",
        "content": {
            "application/json": {"schema": {"type": "object", "required": ["gstin", "fp"]}},
            XLSX: {"schema": {"type": "string", "format": "binary"}},
        },
    },
    **ERRORS,
}


@router.get("/gstr1", responses=RETURN_RESPONSES, response_class=JSONResponse)
async def get_gstr1(
    _: CurrentUser,
    session: SessionDep,
    ctx: ContextDep,
    company_id: CompanyId,
    period: Period,
    format: Annotated[Gstr1Format, Query(description="json (GSTN) or xlsx (offline tool sheets).")] = "json",
) -> Response:
    """GSTR-1 of one company for one month: b2b (SEZ with inv_typ SEWP/SEWOP), b2cl (B2CL threshold
    in force on each invoice's date), b2cs, cdnr, cdnur, exp (WPAY/WOPAY), hsn (B2B/B2C), nil and
    doc_issue (voided invoices counted as cancelled and nowhere else). README, "GSTR-1"."""
    result = await gstr1.build(session, ctx, company_id=company_id, period=period)
    if format == "xlsx":
        year, month = period.split("-")
        filename = f"GSTR1_{result.gstin}_{month}{year}.xlsx"
        return Response(
            await gstr1_xlsx.render(ctx, result),
            media_type=XLSX,
            headers={"Content-Disposition": f'attachment; filename="{filename}"', "X-Content-Type-Options": "nosniff"},
        )
    return JSONResponse(gstr1.to_json(result))


@router.get("/gstr1/summary", response_model=Gstr1Summary, responses=ERRORS)
async def get_gstr1_summary(
    _: CurrentUser, session: SessionDep, ctx: ContextDep, company_id: CompanyId, period: Period
) -> Gstr1Summary:
    """Totals per section of the month's GSTR-1 and the sales register's totals (invoices minus
    credit notes) they add up to; `balanced` says they do."""
    return gstr1.summary(await gstr1.build(session, ctx, company_id=company_id, period=period))
