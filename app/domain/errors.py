"""Errors of the domain: plain ValueErrors that name the field and a stable code. The service
layer maps them to the API's problem types (app.services.billing.rules.RuleViolation, NotFound)."""


class DomainError(ValueError):
    def __init__(self, field: str, message: str, *, code: str) -> None:
        super().__init__(message)
        self.field, self.message, self.code = field, message, code


class RuleBroken(DomainError):
    """The input is well-formed but a business rule refuses it (the API answers 400)."""


class ReferenceMissing(DomainError):
    """The input refers to something that does not exist (the API answers 404)."""
