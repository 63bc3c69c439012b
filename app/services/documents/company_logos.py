"""Company logos: an uploaded PNG or JPEG, checked by its content (never its name or declared
type), decoded and re-encoded with Pillow so that only pixels are kept (no EXIF, no text chunks,
no colour profile, nothing a crafted file could carry further), fitted within MAX_SIZE pixels.

Refused: more than MAX_BYTES (413), anything Pillow does not identify as PNG or JPEG (415: GIF,
SVG, WebP, text), and a PNG or JPEG that does not decode or claims more than MAX_PIXELS (422: a
truncated file, a decompression bomb)."""

import asyncio
import hashlib
import io
import uuid
from dataclasses import dataclass
from typing import Any

from PIL import Image, ImageOps, UnidentifiedImageError
from sqlalchemy.ext.asyncio import AsyncSession

from app.core.context import Context
from app.core.errors import AppError, NotFound
from app.models.documents.company_logo import CompanyLogo
from app.repositories.billing.companies import CompanyRepository
from app.repositories.documents.company_logos import CompanyLogoRepository
from app.services.platform import audit

MAX_BYTES = 1_048_576  # 1 MiB, the upload as sent
MAX_SIZE = (600, 200)  # the stored logo fits within this (width, height); a document prints it smaller
# What a logo may claim before it is decoded: far above any real logo, far below what would exhaust
# memory (Pillow's own bomb limit is ~179 M pixels; 24 M pixels of RGBA is ~96 MB).
MAX_PIXELS = 24_000_000
FORMATS = {"PNG": "image/png", "JPEG": "image/jpeg"}
# A JPEG with an MPF second picture (phone cameras: depth or HDR gain maps) opens as "MPO": a JPEG
# file; its first picture is decoded and stored as a plain JPEG.
ALIASES = {"MPO": "JPEG"}
MAGIC = (b"\x89PNG\r\n\x1a\n", b"\xff\xd8\xff")


@dataclass(frozen=True)
class PreparedLogo:
    content: bytes
    media_type: str
    width: int
    height: int
    sha256: str


def too_large() -> AppError:
    return AppError(f"A logo may be at most {MAX_BYTES:,} bytes.", code="logo-too-large")


def prepare(data: bytes) -> PreparedLogo:
    """Check and re-encode an uploaded logo (CPU work: run it off the event loop)."""
    if len(data) > MAX_BYTES:
        raise too_large()
    source_format = _identify(data)
    try:
        with Image.open(io.BytesIO(data)) as opened:
            _check_pixels(opened)  # before decoding: Pillow only warns below twice its own limit
            opened.load()
            upright = ImageOps.exif_transpose(opened)  # keep the orientation the EXIF gave, then drop it
            image = _normalised(upright, source_format)
            image.thumbnail(MAX_SIZE, Image.Resampling.LANCZOS)
            out = io.BytesIO()
            if source_format == "PNG":
                image.save(out, format="PNG", optimize=True)
            else:
                image.save(out, format="JPEG", quality=90, optimize=True)
    except AppError:
        raise
    except Image.DecompressionBombError as exc:
        raise _corrupt("The image claims too many pixels.") from exc
    except (OSError, SyntaxError, ValueError, EOFError) as exc:
        raise _corrupt("The image could not be decoded.") from exc
    content = out.getvalue()
    return PreparedLogo(
        content=content,
        media_type=FORMATS[source_format],
        width=image.width,
        height=image.height,
        sha256=hashlib.sha256(content).hexdigest(),
    )


def _identify(data: bytes) -> str:
    """The format by content: PNG or JPEG, else 415; a file that does not verify, 422."""
    try:
        with Image.open(io.BytesIO(data)) as probe:
            found = ALIASES.get(str(probe.format), probe.format)
            if found not in FORMATS:
                raise _unsupported()
            _check_pixels(probe)
            probe.verify()
    except AppError:
        raise
    except UnidentifiedImageError as exc:
        if data.startswith(MAGIC):  # a PNG or JPEG signature, then nothing Pillow can read
            raise _corrupt("The image is corrupt.") from exc
        raise _unsupported() from exc
    except Image.DecompressionBombError as exc:
        raise _corrupt("The image claims too many pixels.") from exc
    except (OSError, SyntaxError, ValueError, EOFError) as exc:
        raise _corrupt("The image is corrupt.") from exc
    return str(found)


def _check_pixels(image: Image.Image) -> None:
    width, height = image.size
    if width <= 0 or height <= 0 or width * height > MAX_PIXELS:
        raise _corrupt(f"The image claims {width}x{height} pixels; a logo may have at most {MAX_PIXELS:,}.")


def _normalised(image: Image.Image, source_format: str) -> Image.Image:
    """Pixels in a mode the output format stores plainly (no palette quirks, no CMYK)."""
    if source_format == "JPEG":
        return image.convert("RGB") if image.mode != "L" else image.copy()
    if image.mode in ("RGBA", "LA") or (image.mode == "P" and "transparency" in image.info):
        return image.convert("RGBA")
    return image.convert("RGB") if image.mode != "L" else image.copy()


def _unsupported() -> AppError:
    return AppError("A logo must be a PNG or JPEG image (by its content).", code="logo-format-unsupported")


def _corrupt(detail: str) -> AppError:
    return AppError(detail, code="logo-corrupt")


async def _company(session: AsyncSession, company_id: uuid.UUID) -> None:
    if await CompanyRepository(session).get(company_id) is None:
        raise NotFound("No company with this id.", code="company-not-found")


async def get(session: AsyncSession, company_id: uuid.UUID) -> CompanyLogo:
    logo = await CompanyLogoRepository(session).get(company_id)
    if logo is None:
        await _company(session, company_id)
        raise NotFound("The company has no logo.", code="logo-not-found")
    return logo


async def upload(session: AsyncSession, ctx: Context, company_id: uuid.UUID, data: bytes) -> CompanyLogo:
    """Check and re-encode `data` on a worker thread (Pillow is CPU work), then store it (audited:
    `company.logo_set`, the old and new logo by type, size and hash)."""
    await _company(session, company_id)
    logo = await asyncio.to_thread(prepare, data)
    repo = CompanyLogoRepository(session)
    before = await repo.get(company_id)
    before_summary = _summary(before) if before is not None else None
    values = {
        "content": logo.content,
        "media_type": logo.media_type,
        "width": logo.width,
        "height": logo.height,
        "sha256": logo.sha256,
    }
    stored = await repo.put(company_id, values)
    await audit.record(
        session,
        action="company.logo_set",
        entity_type="company",
        entity_id=company_id,
        before=before_summary,
        after=_summary(stored),
    )
    return stored


async def delete(session: AsyncSession, company_id: uuid.UUID) -> None:
    await _company(session, company_id)
    repo = CompanyLogoRepository(session)
    before = await repo.get(company_id)
    if before is None or not await repo.remove(company_id):
        raise NotFound("The company has no logo.", code="logo-not-found")
    await audit.record(
        session, action="company.logo_deleted", entity_type="company", entity_id=company_id, before=_summary(before)
    )


def _summary(logo: CompanyLogo) -> dict[str, Any]:
    return {"media_type": logo.media_type, "width": logo.width, "height": logo.height, "sha256": logo.sha256}
