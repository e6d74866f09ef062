"""The one error mapping (service/interceptors.py status_for): an exception raised below the
servicer, as the status, message and trailers its client receives. No server needed."""

from __future__ import annotations

import grpc
import pytest
from google.rpc import code_pb2, error_details_pb2, status_pb2

from service import errors
from service.client import field_violations
from service.errors import FieldViolation, InvalidArgument, ServiceError
from service.interceptors import REQUEST_ID, Trailers, status_for

METHOD = "/invitations.v1.InvitationService/GetInvitation"
REQUEST = "req-1234"
# Where gRPC's rich error model puts a google.rpc.Status, for clients in every language.
STATUS_DETAILS = "grpc-status-details-bin"

# Written out rather than read from the interceptor's table, so a changed mapping shows here.
CODES: dict[type[ServiceError], grpc.StatusCode] = {
    errors.InvalidArgument: grpc.StatusCode.INVALID_ARGUMENT,
    errors.NotFound: grpc.StatusCode.NOT_FOUND,
    errors.AlreadyExists: grpc.StatusCode.ALREADY_EXISTS,
    errors.FailedPrecondition: grpc.StatusCode.FAILED_PRECONDITION,
    errors.Unavailable: grpc.StatusCode.UNAVAILABLE,
    errors.DeadlineExceeded: grpc.StatusCode.DEADLINE_EXCEEDED,
    errors.Unauthenticated: grpc.StatusCode.UNAUTHENTICATED,
    errors.PermissionDenied: grpc.StatusCode.PERMISSION_DENIED,
    errors.ResourceExhausted: grpc.StatusCode.RESOURCE_EXHAUSTED,
}


def _error(error_class: type[ServiceError]) -> ServiceError:
    if error_class is InvalidArgument:
        return InvalidArgument([FieldViolation("invitation.email", "is required")])
    return error_class("invitations/1 is not here")


def test_every_domain_error_has_a_code_here() -> None:
    assert set(ServiceError.__subclasses__()) == set(CODES)


@pytest.mark.parametrize("error_class", list(CODES), ids=lambda c: c.__name__)
def test_a_domain_error_is_its_code_and_message(error_class: type[ServiceError]) -> None:
    error = _error(error_class)

    code, message, trailers = status_for(error, METHOD, REQUEST)

    assert code is CODES[error_class]
    assert message == error.message
    assert (REQUEST_ID, REQUEST) in trailers


def test_invalid_argument_carries_its_violations_as_bad_request_details() -> None:
    error = InvalidArgument(
        [FieldViolation("invitation.email", "is required"), FieldViolation("page_size", "< 0")]
    )

    _, _, trailers = status_for(error, METHOD, REQUEST)

    [details] = [value for key, value in trailers if key == STATUS_DETAILS]
    assert isinstance(details, bytes)
    status = status_pb2.Status.FromString(details)
    assert status.code == code_pb2.INVALID_ARGUMENT
    assert status.message == error.message
    [detail] = status.details
    bad_request = error_details_pb2.BadRequest()
    assert detail.Unpack(bad_request)
    assert [(v.field, v.description) for v in bad_request.field_violations] == [
        ("invitation.email", "is required"),
        ("page_size", "< 0"),
    ]


def test_other_domain_errors_carry_no_details() -> None:
    _, _, trailers = status_for(errors.NotFound("gone"), METHOD, REQUEST)

    assert trailers == ((REQUEST_ID, REQUEST),)


def test_an_unwritten_rpc_is_unimplemented_and_named() -> None:
    code, message, trailers = status_for(
        NotImplementedError("Method not implemented!"), METHOD, REQUEST
    )

    assert code is grpc.StatusCode.UNIMPLEMENTED
    assert message == f"{METHOD} is not implemented by this server"
    assert trailers == ((REQUEST_ID, REQUEST),)


@pytest.mark.parametrize(
    "error",
    [
        RuntimeError("password=hunter2 at db.internal:5432"),
        KeyError("secret_column"),
        ValueError(""),
    ],
    ids=lambda e: type(e).__name__,
)
def test_any_other_exception_is_internal_and_says_only_the_request_id(error: Exception) -> None:
    code, message, trailers = status_for(error, METHOD, REQUEST)

    assert code is grpc.StatusCode.INTERNAL
    assert message == f"internal error (request id {REQUEST})"
    assert trailers == ((REQUEST_ID, REQUEST),)


def _received(code: grpc.StatusCode, message: str, trailers: Trailers) -> grpc.aio.AioRpcError:
    """The error a grpc.aio client raises for that status."""
    empty = grpc.aio.Metadata()
    return grpc.aio.AioRpcError(code, empty, grpc.aio.Metadata(*trailers), message)


def test_the_client_reads_the_violations_back_through_grpcio_status() -> None:
    violations = [FieldViolation("invitation.email", "is required"), FieldViolation("x", "y")]

    received = _received(*status_for(InvalidArgument(violations), METHOD, REQUEST))

    assert field_violations(received) == [("invitation.email", "is required"), ("x", "y")]


def test_details_that_contradict_the_status_count_as_none() -> None:
    code, _, trailers = status_for(InvalidArgument([FieldViolation("a", "b")]), METHOD, REQUEST)

    # A server (or a proxy) that rewrote the message but kept the details.
    assert field_violations(_received(code, "something else", trailers)) == []
    assert field_violations(_received(grpc.StatusCode.NOT_FOUND, "gone", ())) == []
