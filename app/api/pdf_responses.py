"""PDF answers: `application/pdf` with a safe Content-Disposition (RFC 6266: an ASCII `filename`
and the UTF-8 `filename*`), a strong ETag and `Cache-Control: private, no-cache` (a browser keeps
the copy but asks again each time; a shared cache never stores it). A request whose If-None-Match
names the current ETag gets 304 with no body."""

from typing import Any
from urllib.parse import quote

from fastapi import Request, Response

from app.services.documents.document_pdfs import RenderedPdf

CACHE_CONTROL = "private, no-cache"


class PdfResponse(Response):
    media_type = "application/pdf"


_HEADERS = {
    "ETag": {"description": "SHA-256 of the PDF's bytes (strong).", "schema": {"type": "string"}},
    "Content-Disposition": {
        "description": 'inline; filename="<number>.pdf" (the number with "/" as "-").',
        "schema": {"type": "string"},
    },
    "Cache-Control": {"description": CACHE_CONTROL, "schema": {"type": "string"}},
}
PDF_RESPONSES: dict[int | str, dict[str, Any]] = {
    200: {
        "description": "The PDF.",
        "content": {"application/pdf": {"schema": {"type": "string", "format": "binary"}}},
        "headers": _HEADERS,
    },
    304: {"description": "Not modified: the If-None-Match header names the current ETag. No body."},
}


def content_disposition(filename: str) -> str:
    """`inline` with an ASCII-safe quoted filename and the same name as RFC 5987 UTF-8."""
    ascii_name = "".join(c if 32 <= ord(c) < 127 and c not in '"\\;' else "_" for c in filename)
    return f"inline; filename=\"{ascii_name}\"; filename*=UTF-8''{quote(filename, safe='')}"


def etag_matches(header: str | None, etag: str) -> bool:
    """If-None-Match's weak comparison (RFC 9110 13.1.2): any listed tag equal to ours, W/ or not; '*'."""
    if not header:
        return False
    for candidate in header.split(","):
        tag = candidate.strip()
        if tag == "*":
            return True
        if tag.startswith("W/"):
            tag = tag[2:]
        if tag == etag:
            return True
    return False


def pdf_response(request: Request, pdf: RenderedPdf) -> Response:
    headers = {"ETag": pdf.etag, "Cache-Control": CACHE_CONTROL}
    if etag_matches(request.headers.get("if-none-match"), pdf.etag):
        return Response(status_code=304, headers=headers)
    headers["Content-Disposition"] = content_disposition(pdf.filename)
    headers["X-Content-Type-Options"] = "nosniff"
    return PdfResponse(pdf.content, headers=headers)
