"""RMS Billing: multi-tenant GST billing backend."""
