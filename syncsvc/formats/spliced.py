"""A response body made of pieces, sent as gzip without compressing the big shared ones again.

Vocabulary:

- *fragment*: bytes shared by many responses (the dashboard's table of 1,000 sessions, some
  800 kB), kept with their raw DEFLATE form, compressed once (:attr:`Fragment.deflated`);
- *piece*: the bytes of one response between its fragments (the page's header with the user's
  name and CSRF token, its footer).

A DEFLATE stream is a sequence of blocks: streams compressed apart, each ended by a sync flush
(byte-aligned, not final) and the last one finished, joined end to end, are one valid stream
(no back reference crosses a join, since each compressor started empty). The gzip member around
them needs the CRC-32 and size of the whole: neither the compression of a fragment nor its CRC is
computed again per response. CRC-32 is affine in its start value over GF(2): the CRC of a
fragment following any piece is its CRC from 0 XOR the images of the start's set bits, each
computed once (:meth:`Fragment.crc32`: 32 steps instead of 0.3 ms for 800 kB).

Per-response pieces are *stored* (DEFLATE level 0), not compressed: they are small, and a
secret (the CSRF token) is then never compressed together with anything (no BREACH-style
guessing through the compressed size), while the fragments hold no secret and are the same for
every user.
"""

from __future__ import annotations

import struct
import zlib
from collections.abc import Sequence
from functools import cached_property
from typing import Final

GZIP_HEADER: Final = b"\x1f\x8b\x08\x00\x00\x00\x00\x00\x00\xff"
"""Magic, DEFLATE, no flags, no modification time, no extra flags, unknown OS (RFC 1952)."""
LEVEL: Final = 6
STORED_MAX: Final = 65535
"""The most bytes one stored DEFLATE block holds (its length is 16 bits)."""
FINAL_BLOCK: Final = b"\x03\x00"
"""An empty final block (fixed Huffman codes, its end-of-block code only), after blocks that all
end on a byte boundary (a fragment's sync flush, stored blocks)."""


class Fragment:
    """Shared bytes, with their DEFLATE form computed at the first need and kept."""

    __slots__ = ("__dict__", "raw")

    def __init__(self, raw: bytes) -> None:
        self.raw = raw

    @cached_property
    def deflated(self) -> bytes:
        """Raw DEFLATE blocks of ``raw``, ended by a sync flush (not final)."""
        compressor = zlib.compressobj(LEVEL, zlib.DEFLATED, -15)
        return compressor.compress(self.raw) + compressor.flush(zlib.Z_SYNC_FLUSH)

    @cached_property
    def _crc_map(self) -> tuple[int, tuple[int, ...]]:
        """``zlib.crc32(raw, start)`` as an affine map of ``start``: its value from 0, and what
        each bit of ``start`` flips in it."""
        base = zlib.crc32(self.raw, 0)
        return base, tuple(zlib.crc32(self.raw, 1 << bit) ^ base for bit in range(32))

    def crc32(self, start: int) -> int:
        """``zlib.crc32(raw, start)``, without reading ``raw`` again."""
        crc, flips = self._crc_map
        for bit in range(32):
            if start >> bit & 1:
                crc ^= flips[bit]
        return crc


def joined(parts: Sequence[bytes | Fragment]) -> bytes:
    """The parts end to end, uncompressed."""
    return b"".join(p.raw if isinstance(p, Fragment) else p for p in parts)


def gzipped(parts: Sequence[bytes | Fragment]) -> bytes:
    """One gzip member whose content is :func:`joined` of ``parts``."""
    out = [GZIP_HEADER]
    crc, size = 0, 0
    for part in parts:
        if isinstance(part, Fragment):
            crc, size = part.crc32(crc), size + len(part.raw)
            out.append(part.deflated)
        elif part:
            crc, size = zlib.crc32(part, crc), size + len(part)
            out += stored_blocks(part)
    out.append(FINAL_BLOCK)
    out.append(struct.pack("<II", crc, size & 0xFFFFFFFF))
    return b"".join(out)


def stored_blocks(piece: bytes) -> list[bytes]:
    """``piece`` as non-final stored DEFLATE blocks (RFC 1951 3.2.4), written here: a zlib
    compressor for each piece cost more than the rest of the response (its state allocated)."""
    blocks = []
    for start in range(0, len(piece), STORED_MAX):
        chunk = piece[start : start + STORED_MAX]
        blocks += [struct.pack("<BHH", 0, len(chunk), len(chunk) ^ 0xFFFF), chunk]
    return blocks


def accepts_gzip(accept_encoding: str) -> bool:
    """The client takes gzip (``Accept-Encoding``: ``gzip``, ``x-gzip`` or ``*``, with a q
    above 0; a named coding wins over ``*``)."""
    weights: dict[str, float] = {}
    for item in accept_encoding.lower().split(","):
        name, _, params = item.partition(";")
        weight = 1.0
        for param in params.split(";"):
            key, _, value = param.strip().partition("=")
            if key == "q":
                try:
                    weight = float(value)
                except ValueError:
                    weight = 0.0
        weights.setdefault(name.strip(), weight)
    for name in ("gzip", "x-gzip", "*"):
        if name in weights:
            return weights[name] > 0
    return False
