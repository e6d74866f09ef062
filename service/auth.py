"""Who is calling: bearer JWTs, verified with a configured public key, checked per method.

    authorization: Bearer <JWT signed by the key in AUTH_JWT_PUBLIC_KEY_FILE>

The token's `scope` claim (space-separated) must hold the scope the method requires (each
Resource declares them, service/resource.py); a method with no scope is refused to everyone,
so authorization fails closed. `sub` names the caller. A missing, malformed, expired or
badly signed token is UNAUTHENTICATED; a valid one without the scope is PERMISSION_DENIED.
Health checks and reflection need no token: probes and tools must reach them. Handlers see the
caller through current_caller(). Tokens are never logged: errors name what is wrong, not the
token.

Verifying a signature costs about 50-100 us; a client sends the same token on every call, so
verified tokens are remembered (until they expire), by the whole header that carried them, and a
repeat costs a dictionary lookup.
"""

from __future__ import annotations

import contextvars
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from service.errors import PermissionDenied, Unauthenticated

CACHE_SIZE = 10_000


@dataclass(frozen=True, slots=True)
class Caller:
    subject: str
    scopes: frozenset[str]


_caller: contextvars.ContextVar[Caller | None] = contextvars.ContextVar("caller", default=None)


def current_caller() -> Caller | None:
    """The authenticated caller of the RPC being handled (None when auth is off)."""
    return _caller.get()


def set_caller(caller: Caller | None) -> contextvars.Token[Caller | None]:
    return _caller.set(caller)


def reset_caller(token: contextvars.Token[Caller | None]) -> None:
    # Not contextlib.suppress: a context manager on every RPC costs more than the reset.
    try:  # noqa: SIM105
        _caller.reset(token)
    except ValueError:
        # A server stream finalized outside its RPC's context (its client went away while a
        # write waited): that context holds nothing of this RPC to undo.
        pass


class Authenticator:
    def __init__(
        self,
        public_key_file: Path,
        *,
        algorithms: Sequence[str],
        required_scopes: Mapping[str, str],
        audience: str | None = None,
        issuer: str | None = None,
    ) -> None:
        # PyJWT (and the cryptography it loads) only when auth is on: 50 ms of every start.
        import jwt

        self._jwt = jwt
        self.key = public_key_file.read_text()
        self.algorithms = list(algorithms)
        self.required_scopes = dict(required_scopes)
        self.audience = audience
        self.issuer = issuer
        self._verified: dict[str, tuple[Caller, float]] = {}

    def authenticate(self, method: str, header: str | bytes | None) -> Caller:
        """The caller of `method`, given its `authorization` metadata, or Unauthenticated /
        PermissionDenied."""
        remembered = self._verified.get(header) if isinstance(header, str) else None
        if remembered is not None and time.time() < remembered[1]:
            caller = remembered[0]
        else:
            caller = self._caller(header)
        needed = self.required_scopes.get(method)
        if needed is None:  # the server refuses to start with such a method; never open it
            raise PermissionDenied(f"{method} requires a scope that is not configured")
        if needed not in caller.scopes:
            raise PermissionDenied(f"{caller.subject} lacks the {needed!r} scope for {method}")
        return caller

    def _caller(self, header: str | bytes | None) -> Caller:
        """The caller a header names, its token verified and remembered."""
        if not isinstance(header, str) or not header:
            raise Unauthenticated("missing authorization metadata: send 'Bearer <token>'")
        scheme, _, token = header.partition(" ")
        token = token.strip()
        if scheme.lower() != "bearer" or not token:
            raise Unauthenticated("malformed authorization metadata: expected 'Bearer <token>'")
        self._verified.pop(header, None)  # expired, if there
        try:
            claims = self._jwt.decode(
                token,
                self.key,
                algorithms=self.algorithms,
                audience=self.audience,
                issuer=self.issuer,
                options={"require": ["exp", "sub"]},
            )
        except self._jwt.ExpiredSignatureError:
            raise Unauthenticated("the token has expired") from None
        except self._jwt.PyJWTError as error:
            # InvalidTokenError's kind, and InvalidKeyError: a header naming an algorithm of
            # another key type than ours (ES256 or HS256 against an RSA key) is a bad token too.
            raise Unauthenticated(f"invalid token: {type(error).__name__}") from None
        scopes = claims.get("scope", "")
        caller = Caller(str(claims["sub"]), frozenset(str(scopes).split()))
        if len(self._verified) >= CACHE_SIZE:
            self._verified.clear()
        # PyJWT checked that int() takes exp; float() would overflow on a huge one (INTERNAL).
        self._verified[header] = (caller, int(claims["exp"]))
        return caller
