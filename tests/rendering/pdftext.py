"""Reading a rendered PDF back, as a customer's viewer (or a text search) would."""

import io

import pypdf


def pages(content: bytes) -> list[str]:
    """The text of every page, whitespace collapsed (table cells and wrapped lines come back one per line)."""
    reader = pypdf.PdfReader(io.BytesIO(content))
    return [" ".join(page.extract_text().split()) for page in reader.pages]


def text(content: bytes) -> str:
    return " ".join(pages(content))


def fonts(content: bytes) -> dict[str, bool]:
    """BaseFont name -> embedded? for every font any page uses."""
    reader = pypdf.PdfReader(io.BytesIO(content))
    found: dict[str, bool] = {}
    for page in reader.pages:
        for ref in page["/Resources"]["/Font"].values():
            font = ref.get_object()
            descriptor = font.get("/FontDescriptor")
            embedded = descriptor is not None and any(
                key in descriptor.get_object() for key in ("/FontFile", "/FontFile2", "/FontFile3")
            )
            found[str(font["/BaseFont"])] = embedded
    return found
