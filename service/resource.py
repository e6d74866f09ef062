"""What a resource plugs into the server with: one `Resource`, listed in service/resources.py.

    RESOURCE = Resource(
        service=book_shelves_pb2.DESCRIPTOR.services_by_name["BookShelfService"],
        add_to_server=book_shelves_pb2_grpc.add_BookShelfServiceServicer_to_server,
        servicer=lambda database: BookShelfServicer(BookShelves(database)),
        scopes={"ArchiveBookShelf": "book_shelves.write"},  # a custom method (AIP-136)
    )

The server (service/server.py) builds each servicer on the shared database, registers it
through the request interceptor (so no method escapes auth, error mapping and the access log),
lists its service in health and reflection, and starts and stops it with the process when the
servicer has `start()` / `stop()` coroutines (invitations' event stream does).

Scopes: a method needs `<package>.read` when its name starts with a reading verb of Google's
AIPs (Get, List, BatchGet, Search, Watch), `<package>.write` for a writing one (Create, Update,
Delete, ...), where `<package>` is the first part of the proto package (`invitations` for
`invitations.v1`). Any other method (a custom verb, AIP-136) must be given its scope in
`scopes`: with auth on, the server refuses to start while a method has none, so a new method
can never be open to every valid token by omission.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Generic, Protocol, TypeAlias, TypeVar, runtime_checkable

if TYPE_CHECKING:
    import grpc
    from google.protobuf.descriptor import ServiceDescriptor

    from service.db.database import Database

READ_VERBS = ("Get", "List", "BatchGet", "Search", "Watch")
WRITE_VERBS = (
    *("Create", "Update", "Delete", "Undelete"),
    *("BatchCreate", "BatchUpdate", "BatchDelete"),
)

S = TypeVar("S")


@runtime_checkable
class Background(Protocol):
    """A servicer with work of its own: started once the database answers, stopped first at
    shutdown (before in-flight RPCs get their grace period)."""

    def start(self) -> Awaitable[None]: ...

    def stop(self) -> Awaitable[None]: ...


def _verb(method: str, verbs: tuple[str, ...]) -> bool:
    """`method` is `<verb><Noun>`: the verb, then a capital letter (ListX, not Listen)."""
    return any(
        method.startswith(verb) and method[len(verb) : len(verb) + 1].isupper() for verb in verbs
    )


@dataclass(frozen=True)
class Resource(Generic[S]):
    # The gRPC service, from the generated module: `x_pb2.DESCRIPTOR.services_by_name["X"]`.
    service: ServiceDescriptor
    # The generated `add_XServicer_to_server`.
    add_to_server: Callable[[S, grpc.aio.Server], None]
    # Builds the servicer on the server's database.
    servicer: Callable[[Database], S]
    # Scopes by method name, for methods the AIP verbs do not cover or that need another.
    scopes: Mapping[str, str] = field(default_factory=dict)

    @property
    def name(self) -> str:
        """The service's full name, as health and reflection list it."""
        return self.service.full_name

    def required_scopes(self) -> dict[str, str | None]:
        """The scope of each method by its full path (`/pkg.v1.Service/Method`); None: none
        was declared and no verb gives one."""
        package = self.service.file.package.split(".")[0]
        unknown = set(self.scopes) - {method.name for method in self.service.methods}
        if unknown:
            missing = ", ".join(sorted(unknown))
            raise ValueError(f"scopes are declared for {missing}, which {self.name} lacks")
        found: dict[str, str | None] = {}
        for method in self.service.methods:
            scope = self.scopes.get(method.name)
            if scope is None and _verb(method.name, READ_VERBS):
                scope = f"{package}.read"
            elif scope is None and _verb(method.name, WRITE_VERBS):
                scope = f"{package}.write"
            found[f"/{self.service.full_name}/{method.name}"] = scope
        return found


# A resource of whichever servicer, as the server takes them: no narrower type holds resources
# of different servicers, as S is invariant (add_to_server takes an S, servicer returns one).
AnyResource: TypeAlias = Resource[Any]


def all_scopes(resources: Sequence[AnyResource]) -> dict[str, str | None]:
    scopes: dict[str, str | None] = {}
    for resource in resources:
        scopes.update(resource.required_scopes())
    return scopes
