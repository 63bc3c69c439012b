"""PDFs and pages of issued documents, rendered from plain data: reportlab, segno (filled in by issue 10)."""
