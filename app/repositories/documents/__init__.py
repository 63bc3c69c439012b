"""Getting documents out: PDFs, customer mail, share links, logos."""
