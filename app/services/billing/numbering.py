"""Taking the next document number from a company's series (the counter row lives in
number_series); the pattern rules themselves are app.domain.numbering."""

import uuid
from datetime import date

from sqlalchemy.ext.asyncio import AsyncSession

from app.core.errors import Conflict
from app.domain.fiscal import financial_year, series_year
from app.domain.numbering import SeriesExhausted, render_number
from app.repositories.billing.number_series import NumberSeriesRepository


async def assign(
    session: AsyncSession, *, company_id: uuid.UUID, document_type: str, day: date, pattern: str
) -> tuple[str, str]:
    """(number, financial year as printed) for a document of `document_type` dated `day`, taken
    from the company's series for that financial year inside the caller's transaction."""
    fy = financial_year(day)
    seq = await NumberSeriesRepository(session).take_next(company_id, document_type, series_year(day))
    try:
        return render_number(pattern, fy, seq), fy
    except SeriesExhausted as exc:
        raise Conflict(str(exc), code="number-series-exhausted") from exc
