"""Page tokens (service/conventions.py): signed, bound to their request, rotatable keys."""

from __future__ import annotations

import base64
import uuid
from datetime import UTC, datetime

import pytest

from service.conventions import MAX_PAGE_TOKEN_LENGTH, Cursor, PageTokens
from service.errors import Violations

OLD, NEW, OTHER = b"o" * 32, b"n" * 32, b"x" * 32
CURSOR = Cursor(datetime(2026, 5, 6, 7, 8, 9, 123456, tzinfo=UTC), uuid.uuid4())


def decoded(tokens: PageTokens, token: str, query: str = "") -> Cursor | None:
    violations = Violations()
    cursor = tokens.decode(token, violations, query)
    assert (cursor is None) == bool(violations.found)  # refused: said so, under page_token
    assert all(v.field == "page_token" for v in violations.found)
    return cursor


def test_a_token_round_trips_to_the_microsecond() -> None:
    tokens = PageTokens([NEW])
    assert decoded(tokens, tokens.encode(CURSOR)) == CURSOR
    assert len(tokens.encode(CURSOR)) <= MAX_PAGE_TOKEN_LENGTH


def test_the_first_page_has_no_token() -> None:
    violations = Violations()
    assert PageTokens([NEW]).decode("", violations) is None
    assert not violations.found


def test_rotation_accepts_the_previous_key_and_signs_with_the_new() -> None:
    before, during, after = PageTokens([OLD]), PageTokens([NEW, OLD]), PageTokens([NEW])
    old_token = before.encode(CURSOR)

    assert decoded(during, old_token) == CURSOR
    assert decoded(after, during.encode(CURSOR)) == CURSOR
    assert decoded(after, old_token) is None


def test_a_token_signed_with_another_key_is_refused() -> None:
    assert decoded(PageTokens([NEW]), PageTokens([OTHER]).encode(CURSOR)) is None


def test_a_token_only_works_with_the_query_it_came_from() -> None:
    tokens = PageTokens([NEW])
    token = tokens.encode(CURSOR, "status=PENDING")
    assert decoded(tokens, token, "status=PENDING") == CURSOR
    assert decoded(tokens, token, "status=") is None


@pytest.mark.parametrize("position", range(41))
def test_any_edited_byte_is_refused(position: int) -> None:
    tokens = PageTokens([NEW])
    token = tokens.encode(CURSOR)
    raw = bytearray(base64.urlsafe_b64decode(token + "=" * (-len(token) % 4)))
    raw[position] ^= 0x40
    assert decoded(tokens, base64.urlsafe_b64encode(bytes(raw)).decode().rstrip("=")) is None


@pytest.mark.parametrize(
    "token", ["x", "💥", "a" * 1000, "====", "\x00" * 55, "AAAA" * 14, "not base64 at all!"]
)
def test_garbage_is_refused(token: str) -> None:
    assert decoded(PageTokens([NEW]), token) is None


@pytest.mark.parametrize("spelling", ["{}==", "{}.", "\n{}", "{} "])
def test_only_the_tokens_own_spelling_is_accepted(spelling: str) -> None:
    tokens = PageTokens([NEW])
    assert decoded(tokens, spelling.format(tokens.encode(CURSOR))) is None


def test_keys_shorter_than_32_bytes_are_refused() -> None:
    with pytest.raises(ValueError, match="32 bytes"):
        PageTokens([b"short"])
