"""The API conventions every resource shares (Google's AIPs), in one place for their convert.py:
resource names (AIP-122), page sizes and page tokens (AIP-158), update masks (AIP-134), text
fields and timestamps. Each parser adds what is wrong to a Violations and returns a placeholder,
so a request's every mistake is reported at once, each under its field's path.
"""

from __future__ import annotations

import base64
import binascii
import hmac
import re
import secrets
import struct
import unicodedata
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from asyncpg.pgproto.pgproto import UUID as _UUID
from google.protobuf import field_mask_pb2, timestamp_pb2

from service.errors import Violations

DEFAULT_PAGE_SIZE = 50
MAX_PAGE_SIZE = 1000
MAX_PAGE_TOKEN_LENGTH = 200
MAX_MASK_PATHS = 50  # far more than any message has fields: bounds the work on a hostile mask
# The one spelling of an id in a resource name: what str(uuid.UUID) writes.
_CANONICAL_UUID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_MICROSECOND = timedelta(microseconds=1)
# Timestamps PostgreSQL and Python's datetime can both hold (years 1..9999), in microseconds.
_MIN_MICROS = (datetime(1, 1, 1, tzinfo=UTC) - _EPOCH) // _MICROSECOND
_MAX_MICROS = (datetime(9999, 12, 31, tzinfo=UTC) - _EPOCH) // _MICROSECOND


def set_timestamp(field: timestamp_pb2.Timestamp, value: datetime) -> None:
    """Set a message's Timestamp field to a datetime, in place:
    `set_timestamp(message.create_time, row.create_time)`. Integer arithmetic, so exact; and
    measured at half the cost of building a Timestamp and copying it into the message (or of
    Timestamp.FromDatetime), on every response."""
    delta = value - _EPOCH  # days may be negative; seconds and microseconds never are
    field.seconds = delta.days * 86400 + delta.seconds
    field.nanos = delta.microseconds * 1000


def parse_name(name: str, collection: str, field: str, violations: Violations) -> uuid.UUID:
    """`<collection>/<uuid>` -> the uuid. Only the canonical spelling is accepted, so one
    resource has one name."""
    prefix = f"{collection}/"
    if not name:
        violations.add(field, "is required")
    elif not name.startswith(prefix):
        violations.add(field, f"must look like {prefix}{{id}}, got {name[:80]!r}")
    else:
        text = name.removeprefix(prefix)
        if _CANONICAL_UUID.fullmatch(text):
            # asyncpg's UUID, the class it reads uuid columns as: a uuid.UUID, equal and
            # hashed alike, parsed in C (0.3 us against uuid.UUID's 2.6, on every name).
            return _UUID(text)
        violations.add(field, f"has no valid id (a lower-case UUID): {name[:80]!r}")
    return uuid.UUID(int=0)


def parse_text(value: str, field: str, violations: Violations, *, max_length: int) -> str:
    """A required single-line text: trimmed, at most max_length characters, no control or
    invisible format characters (NUL, bidi overrides, zero-width spaces)."""
    value = value.strip()
    if not value:
        violations.add(field, "is required")
    elif len(value) > max_length:
        violations.add(field, f"is longer than {max_length} characters")
    # isprintable() is False for every Cc and Cf character (and for some that are fine, such
    # as a no-break space): the check of each character only runs for those.
    elif not value.isprintable() and any(unicodedata.category(c) in ("Cc", "Cf") for c in value):
        violations.add(field, "contains control or invisible characters")
    return value


def parse_page_size(page_size: int, violations: Violations) -> int:
    """0 means the default; larger than the maximum is capped (AIP-158)."""
    if page_size < 0:
        violations.add("page_size", "must not be negative")
    return min(page_size or DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE)


@dataclass(frozen=True, slots=True)
class Cursor:
    """Where a page ends: the (create_time, id) of its last row; the next page starts after."""

    create_time: datetime
    id: uuid.UUID


# Page tokens (AIP-158) are opaque to clients: base64url of a version byte, the cursor
# (microseconds since the epoch as a signed 64-bit integer, the row's UUID) and an HMAC-SHA256 of
# it, truncated to 128 bits, under the server's key. A client cannot make up or edit a token,
# so paging cannot be steered to rows or values the server never handed out, and decoding is
# strict, so any token that is not one of ours is INVALID_ARGUMENT, never a crash. The MAC also
# covers the request's other parameters (`query`: the filter, say), so a token only works with
# the request it came from.
_TOKEN_VERSION = 2
_TOKEN = struct.Struct(">Bq16s")
_MAC_BYTES = 16
_TOKEN_BYTES = _TOKEN.size + _MAC_BYTES
MIN_PAGE_TOKEN_KEY_BYTES = 32


class PageTokens:
    """Signs page tokens with the first key, and accepts tokens signed by any of `keys`: to
    rotate, sign with the new key while still accepting the previous one (settings
    PAGE_TOKEN_KEY and PAGE_TOKEN_PREVIOUS_KEY)."""

    def __init__(self, keys: Sequence[bytes]) -> None:
        self.use(keys)

    def use(self, keys: Sequence[bytes]) -> None:
        if not keys or any(len(key) < MIN_PAGE_TOKEN_KEY_BYTES for key in keys):
            raise ValueError(f"page token keys need {MIN_PAGE_TOKEN_KEY_BYTES} bytes or more")
        self._keys = tuple(keys)

    @staticmethod
    def _mac(key: bytes, payload: bytes, query: str) -> bytes:
        message = b"page-token\0" + query.encode() + b"\0" + payload
        return hmac.digest(key, message, "sha256")[:_MAC_BYTES]

    def encode(self, cursor: Cursor, query: str = "") -> str:
        micros = (cursor.create_time - _EPOCH) // _MICROSECOND  # exact, unlike floats
        payload = _TOKEN.pack(_TOKEN_VERSION, micros, cursor.id.bytes)
        return _spelled(payload + self._mac(self._keys[0], payload, query))

    def decode(self, token: str, violations: Violations, query: str = "") -> Cursor | None:
        """The cursor a next_page_token holds; None for the first page (an empty token)."""
        if not token:
            return None
        try:
            if len(token) > MAX_PAGE_TOKEN_LENGTH:
                raise ValueError("too long")
            raw = base64.urlsafe_b64decode(token.encode("ascii") + b"=" * (-len(token) % 4))
            # Decoding skips what is not base64url: only our own spelling is one of ours.
            if len(raw) != _TOKEN_BYTES or _spelled(raw) != token:
                raise ValueError("not one of ours")
            payload, mac = raw[: _TOKEN.size], raw[_TOKEN.size :]
            if not any(
                hmac.compare_digest(mac, self._mac(key, payload, query)) for key in self._keys
            ):
                raise ValueError("not signed by us, or for another request")
            version, micros, id_bytes = _TOKEN.unpack(payload)
            if version != _TOKEN_VERSION or not _MIN_MICROS <= micros <= _MAX_MICROS:
                raise ValueError("not one of ours")
            return Cursor(_EPOCH + micros * _MICROSECOND, uuid.UUID(bytes=id_bytes))
        except (ValueError, UnicodeEncodeError, binascii.Error):
            violations.add(
                "page_token",
                "is not a next_page_token of this list with these parameters "
                "(a token only works with the request it came from)",
            )
            return None


def _spelled(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


# The keys the server was configured with (use_page_token_keys, from settings); until then, a
# random key of this process, so that nothing signs with a key anyone could know.
_page_tokens = PageTokens([secrets.token_bytes(MIN_PAGE_TOKEN_KEY_BYTES)])


def use_page_token_keys(keys: Sequence[bytes]) -> None:
    _page_tokens.use(keys)


def encode_page_token(cursor: Cursor, query: str = "") -> str:
    """A next_page_token for the page after `cursor`; `query`: the request's other parameters
    (filter, order...) as text, which the next request must repeat."""
    return _page_tokens.encode(cursor, query)


def decode_page_token(token: str, violations: Violations, query: str = "") -> Cursor | None:
    """The cursor a next_page_token holds; None for the first page (an empty token) or a token
    that is not one of ours for this `query` (a violation of `page_token`)."""
    return _page_tokens.decode(token, violations, query)


def update_paths(
    mask: field_mask_pb2.FieldMask | None,
    *,
    mutable: Sequence[str],
    output_only: Sequence[str],
    populated: Sequence[str],
    violations: Violations,
) -> list[str]:
    """The fields an update changes (AIP-134): its mask's paths (`*` is every mutable field),
    or without a mask the populated ones. Checked against the message's fields."""
    if mask is None:
        chosen = [field for field in mutable if field in populated]
        if not chosen:
            violations.add("update_mask", "names no field to change, and no field is set")
        return chosen
    if len(mask.paths) > MAX_MASK_PATHS:
        violations.add("update_mask", f"names more than {MAX_MASK_PATHS} paths")
        return []
    paths: list[str] = []
    for index, path in enumerate(mask.paths):
        if path == "*":
            paths.extend(mutable)
        elif path in mutable:
            paths.append(path)
        elif path in output_only:
            violations.add(f"update_mask.paths[{index}]", f"{path!r} is output only")
        else:
            violations.add(
                f"update_mask.paths[{index}]",
                f"unknown field {path[:80]!r}; one of {', '.join(mutable)}",
            )
    if not paths and not violations.found:
        violations.add("update_mask", "names no field to change")
    return list(dict.fromkeys(paths))
