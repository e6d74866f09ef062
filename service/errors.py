"""Domain errors: raised where a rule is broken, turned into gRPC statuses in one place.

Code below the servicer raises these and never imports grpc; service/interceptors.py maps each
class to its status code (and InvalidArgument's violations to google.rpc.BadRequest details).
Any other exception is a bug: the client gets INTERNAL with no details, the log gets the
traceback.
"""

from __future__ import annotations

from dataclasses import dataclass


class ServiceError(Exception):
    """Base of the errors a client can cause or observe; the message is shown to the client."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


@dataclass(frozen=True)
class FieldViolation:
    """One bad field of a request: `field` is its path (`invitation.email`, `page_size`)."""

    field: str
    description: str


# What one error tells a client is bounded: its message goes out twice (grpc-message and the
# BadRequest details in the trailers), and grpc clients refuse trailers over 8 KiB by default, so
# a request with hundreds of mistakes would reach its client as a transport error instead.
MAX_VIOLATIONS = 10
MAX_DESCRIPTION = 200


class InvalidArgument(ServiceError):
    """The request is malformed; its bad fields are listed (the first MAX_VIOLATIONS)."""

    def __init__(self, violations: list[FieldViolation]) -> None:
        more = len(violations) - MAX_VIOLATIONS
        violations = [
            FieldViolation(v.field[:MAX_DESCRIPTION], v.description[:MAX_DESCRIPTION])
            for v in violations[:MAX_VIOLATIONS]
        ]
        # A violation of no field (an empty path) is the whole request's.
        fields = ", ".join(
            f"{v.field}: {v.description}" if v.field else v.description for v in violations
        )
        super().__init__(f"invalid request: {fields}" + (f" (and {more} more)" if more > 0 else ""))
        self.violations = violations


class NotFound(ServiceError):
    pass


class AlreadyExists(ServiceError):
    pass


class FailedPrecondition(ServiceError):
    """The request is well-formed but the resource is not in a state that allows it."""


class Unauthenticated(ServiceError):
    """No valid credentials came with the request."""


class PermissionDenied(ServiceError):
    """The caller is known but may not do this."""


class ResourceExhausted(ServiceError):
    """This process runs as many RPCs as it may; the client retries later, with backoff."""


class Unavailable(ServiceError):
    """A dependency (the database) cannot be reached; the client may retry."""


class DeadlineExceeded(ServiceError):
    """The work did not finish within the client's deadline."""


class Violations:
    """Collects field violations while a request is validated, then raises them all at once."""

    def __init__(self) -> None:
        self.found: list[FieldViolation] = []

    def add(self, field: str, description: str) -> None:
        self.found.append(FieldViolation(field, description))

    def raise_if_any(self) -> None:
        if self.found:
            raise InvalidArgument(self.found)
