"""A body of pieces and shared fragments, sent as one gzip member (formats/spliced.py)."""

from __future__ import annotations

import gzip
import zlib

import pytest
from hypothesis import given
from hypothesis import strategies as st

from syncsvc.formats.spliced import Fragment, accepts_gzip, gzipped, joined

TABLE = "".join(f"<tr><td>session {n}</td><td>Réunion</td></tr>\n" for n in range(3000)).encode()


def test_pieces_and_fragments_make_one_gzip_member_of_the_joined_bytes() -> None:
    table = Fragment(TABLE)
    parts: list[bytes | Fragment] = [b"<header>csrf=abc</header>", table, b"", b"<footer/>"]
    body = gzipped(parts)
    assert joined(parts) == b"<header>csrf=abc</header>" + TABLE + b"<footer/>"
    assert gzip.decompress(body) == joined(parts)
    # one member, nothing after it (a browser's inflater stops at the first member)
    inflater = zlib.decompressobj(16 + zlib.MAX_WBITS)
    assert inflater.decompress(body) == joined(parts)
    assert inflater.eof
    assert inflater.unused_data == b""
    assert len(body) < len(TABLE) // 10


def test_a_fragment_is_compressed_once_and_shared() -> None:
    table = Fragment(TABLE)
    first = gzipped([b"a", table, b"b"])
    kept = table.deflated
    second = gzipped([b"other user", table, b"b"])
    assert table.deflated is kept
    assert gzip.decompress(second) == b"other user" + TABLE + b"b"
    assert first != second


@given(st.binary(max_size=300), st.integers(0, 2**32 - 1))
def test_a_fragment_carries_on_any_crc_without_reading_its_bytes_again(
    raw: bytes, start: int
) -> None:
    assert Fragment(raw).crc32(start) == zlib.crc32(raw, start)


def test_the_crc_of_a_response_does_not_read_the_fragment_again() -> None:
    """The CRC of 800 kB cost 0.3 ms per dashboard page; the fragment's CRC, once known, is
    carried on from any start in 32 steps (CRC-32 is affine in its start value)."""
    table = Fragment(TABLE)
    gzipped([b"first", table])
    table.raw = b"the same length, other bytes".ljust(len(TABLE))  # never read again
    body = gzipped([b"second", table])
    assert int.from_bytes(body[-8:-4], "little") == zlib.crc32(TABLE, zlib.crc32(b"second"))


def test_per_response_pieces_are_stored_not_compressed() -> None:
    """The CSRF token is never compressed with anything (no guessing through the size)."""
    secret = b"csrf=" + b"A" * 200
    body = gzipped([secret, Fragment(b"x")])
    assert secret in body


@given(st.lists(st.binary(max_size=70_000) | st.builds(Fragment, st.binary(max_size=300))))
def test_any_pieces_and_fragments_inflate_to_their_joined_bytes(
    parts: list[bytes | Fragment],
) -> None:
    """Pieces over 65,535 bytes too (a stored DEFLATE block holds at most that)."""
    inflater = zlib.decompressobj(16 + zlib.MAX_WBITS)
    assert inflater.decompress(gzipped(parts)) == joined(parts)
    assert inflater.eof
    assert inflater.unused_data == b""


def test_fragment_first_and_empty_parts() -> None:
    assert gzip.decompress(gzipped([Fragment(b""), b""])) == b""
    assert gzip.decompress(gzipped([Fragment(TABLE), Fragment(b"end")])) == TABLE + b"end"


@pytest.mark.parametrize(
    ("header", "expected"),
    [
        ("gzip, deflate, br", True),
        ("br;q=1.0, gzip;q=0.8", True),
        ("x-gzip", True),
        ("*", True),
        ("gzip;q=0", False),
        ("*;q=0.5, gzip;q=0", False),
        ("identity", False),
        ("", False),
        ("gzip;q=zéro", False),
    ],
)
def test_accepts_gzip(header: str, expected: bool) -> None:
    assert accepts_gzip(header) is expected
