"""A tenant billing its customers: companies, customers, configuration, invoices, receipts, credit notes, ledger."""
