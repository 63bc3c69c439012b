"""A company's logo: PUT (owner/admin: it is configuration) sends the image itself as the request
body, `Content-Type: image/png` or `image/jpeg` (the content decides, not the declared type or a
file name); GET returns the stored image; DELETE removes it. See app/services/documents/company_logos.py."""

import uuid

from fastapi import APIRouter, Request, Response, status

from app.api.deps import ContextDep, CurrentUser, ManagerUser, SessionDep
from app.schemas.common import problem_responses
from app.schemas.documents.company_logos import CompanyLogoRead
from app.services.documents import company_logos

router = APIRouter(prefix="/companies", tags=["companies"], responses=problem_responses(401, 422))
IMAGE = {"schema": {"type": "string", "format": "binary"}}
LOGO_BODY = {
    "requestBody": {
        "required": True,
        "description": f"The image file's bytes: a PNG or JPEG of at most {company_logos.MAX_BYTES:,} bytes.",
        "content": {"image/png": IMAGE, "image/jpeg": IMAGE},
    }
}


async def _read_body(request: Request) -> bytes:
    """The body, refused with 413 as soon as it passes the limit (a declared length first)."""
    declared = request.headers.get("content-length")
    if declared is not None and declared.isdigit() and int(declared) > company_logos.MAX_BYTES:
        raise company_logos.too_large()
    data = bytearray()
    async for chunk in request.stream():
        data += chunk
        if len(data) > company_logos.MAX_BYTES:
            raise company_logos.too_large()
    return bytes(data)


@router.put(
    "/{company_id:uuid}/logo",
    response_model=CompanyLogoRead,
    responses=problem_responses(403, 404, 413, 415),
    openapi_extra=LOGO_BODY,
)
async def put_logo(
    company_id: uuid.UUID, request: Request, _: ManagerUser, session: SessionDep, ctx: ContextDep
) -> CompanyLogoRead:
    """Set or replace the company's logo. The image is checked by its content (PNG or JPEG, else
    415; undecodable, 422; over 1 MiB, 413), re-encoded without its metadata (EXIF, text chunks,
    colour profile) and fitted within 600x200 pixels. Printed on documents of plans with custom
    branding."""
    logo = await company_logos.upload(session, ctx, company_id, await _read_body(request))
    return CompanyLogoRead.model_validate(logo)


@router.get(
    "/{company_id:uuid}/logo",
    response_class=Response,
    responses={200: {"description": "The stored image.", "content": {"image/png": IMAGE, "image/jpeg": IMAGE}}}
    | problem_responses(404),
)
async def get_logo(company_id: uuid.UUID, _: CurrentUser, session: SessionDep) -> Response:
    """The stored (re-encoded) logo; 404 when the company has none."""
    logo = await company_logos.get(session, company_id)
    headers = {
        "ETag": f'"{logo.sha256}"',
        "Cache-Control": "private, no-cache",
        "X-Content-Type-Options": "nosniff",
        "Content-Security-Policy": "default-src 'none'",
    }
    return Response(logo.content, media_type=logo.media_type, headers=headers)


@router.delete("/{company_id:uuid}/logo", status_code=status.HTTP_204_NO_CONTENT, responses=problem_responses(403, 404))
async def delete_logo(company_id: uuid.UUID, _: ManagerUser, session: SessionDep) -> Response:
    await company_logos.delete(session, company_id)
    return Response(status_code=status.HTTP_204_NO_CONTENT)
