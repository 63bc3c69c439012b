"""The domain: pure rules of Indian GST billing, with no I/O (no database, no settings, no web).

Imported by schemas, services and repositories alike; imports nothing from `app` outside
`app.domain` (tests/test_architecture.py checks it). Errors raised here are plain ValueError
subclasses; the service layer turns them into the API's problem types."""
