"""The one error hierarchy of the domain; the API maps each class to an HTTP status.

Every error has a stable ``slug``: it becomes the problem ``type`` that clients branch on,
so a slug never changes once published.
"""


class DomainError(Exception):
    slug = "domain-error"
    title = "The command was refused"

    def __init__(self, detail: str) -> None:
        super().__init__(detail)
        self.detail = detail


class InvalidCommand(DomainError):
    """The command is malformed for the domain (quantities, missing officers, ...)."""

    slug = "invalid-command"
    title = "The command is not valid"


class RuleViolation(DomainError):
    """The command is well formed but the incident's current state forbids it."""

    slug = "rule-violation"
    title = "The command breaks a rule of the incident lifecycle"


class IncidentAlreadyClosed(RuleViolation):
    slug = "incident-closed"
    title = "The incident is closed"


class ResourcesStillDeployed(RuleViolation):
    slug = "resources-still-deployed"
    title = "Resources are still deployed"


class NotAuthorized(DomainError):
    """The caller is a party to the incident but not the one who may do this."""

    slug = "not-authorized"
    title = "This agency may not do this"


class NotFound(DomainError):
    """Also raised for incidents the caller is not a party to, so existence does not leak."""

    slug = "not-found"
    title = "Not found"


class IncidentNotFound(NotFound):
    slug = "incident-not-found"
    title = "Incident not found"


class RequestNotFound(NotFound):
    slug = "request-not-found"
    title = "Assistance request not found"


class ObligationNotFound(NotFound):
    slug = "obligation-not-found"
    title = "Obligation not found"


class DuplicateIncident(DomainError):
    slug = "duplicate-incident"
    title = "An incident with this case number already exists"


class VersionMismatch(DomainError):
    """The caller's If-Match no longer names the incident's current version."""

    slug = "version-mismatch"
    title = "The incident has changed since the given version"


class ConcurrentModification(DomainError):
    """Retries against fresh state kept colliding with other writers."""

    slug = "concurrent-modification"
    title = "The incident is being changed by others; try again"


class IdempotencyKeyReused(DomainError):
    """The key already answered a different request (IETF Idempotency-Key draft)."""

    slug = "idempotency-key-reused"
    title = "This Idempotency-Key was used for a different request"
