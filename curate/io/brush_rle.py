"""Label Studio's brush masks: the run-length code of its `brushlabels` results
(`"format": "rle"`), encoded and decoded here.

The code packs a flat array of 8-bit words, the RGBA bytes of a mask the size of the image
(H * W * 4; Label Studio reads the alpha byte), into a bit stream, most significant bit first:

    32 bits  the number of words
     5 bits  the word size in bits, minus 1 (7: bytes)
    4 x 4    the four run-length field sizes in bits, minus 1 (3, 4, 8, 16 here)
    chunks   1 bit: 1 = one word repeated, 0 = a literal run of words
             2 bits: which of the four field sizes holds the length
             that many bits: the chunk's length minus 1
             then the repeated word once, or each literal word

The result's `rle` is that stream as a list of byte values (0..255).
"""

from __future__ import annotations

import numpy as np

from curate.io.errors import InputError

WORD_BITS = 8
FIELD_BITS = (3, 4, 8, 16)          # run-length field sizes; the largest allows 65,536 words
MAX_CHUNK = 1 << FIELD_BITS[-1]
PAINTED = 128                       # alpha at or above which a decoded pixel is painted


def encode(mask: np.ndarray) -> list[int]:
    """The brush code of a boolean (H, W) mask: painted pixels RGBA (255, 255, 255, 255),
    the rest (0, 0, 0, 0)."""
    words = np.repeat(np.asarray(mask, bool).ravel(), 4).astype(np.uint8) * np.uint8(255)
    fields = [(words.size, 32), (WORD_BITS - 1, 5)] + [(b - 1, 4) for b in FIELD_BITS]
    literal: list[int] = []
    for value, length in _runs(words):
        if length == 1:
            literal.append(value)
            continue
        _flush(literal, fields)
        while length:
            n = min(length, MAX_CHUNK)
            fields += [(1, 1), *_length_fields(n), (value, WORD_BITS)]
            length -= n
    _flush(literal, fields)
    bits = "".join(format(v, f"0{n}b") for v, n in fields)
    bits += "0" * (-len(bits) % 8)
    return list(int(bits, 2).to_bytes(len(bits) // 8, "big")) if bits else []


def decode(rle: list[int], height: int, width: int, where: str = "") -> np.ndarray:
    """The boolean (H, W) mask of a brush code (alpha >= 128 is painted).

    Raises InputError naming `where` (the task and label) when the code is not a list of
    bytes, is cut short, or holds a number of words other than H * W * 4.
    """
    try:
        data = np.asarray(rle, dtype=np.int64)
        if data.ndim != 1 or (data < 0).any() or (data > 255).any():
            raise ValueError
    except (TypeError, ValueError):
        raise InputError(f"{where}: the brush 'rle' is not a list of byte values 0..255; "
                         "expected Label Studio's brush code.") from None
    bits = _Bits(np.unpackbits(data.astype(np.uint8)), where)
    total, word_bits = bits.read(32), bits.read(5) + 1
    sizes = [bits.read(4) + 1 for _ in range(4)]
    if total != height * width * 4:
        raise InputError(
            f"{where}: the brush code holds {total:,} values, and the image is {width}x{height} "
            f"(RGBA: {height * width * 4:,} values); the annotation belongs to an image of "
            "another size. Re-export the task, or fix original_width/original_height.")
    words = np.zeros(total, np.uint8)
    i = 0
    while i < total:
        repeat = bits.read(1)
        end = i + 1 + bits.read(sizes[bits.read(2)])
        if end > total:
            raise InputError(f"{where}: a run of the brush code ends at value {end:,}, past "
                             f"the {total:,} of a {width}x{height} RGBA mask.")
        if repeat:
            words[i:end] = bits.read(word_bits)
        else:
            words[i:end] = bits.words(end - i, word_bits)
        i = end
    return words.reshape(height, width, 4)[..., 3] >= PAINTED


class _Bits:
    """A most-significant-bit-first reader over an array of bits."""

    def __init__(self, bits: np.ndarray, where: str) -> None:
        self.bits, self.at, self.where = bits, 0, where

    def _take(self, n: int) -> np.ndarray:
        if self.at + n > self.bits.size:
            raise InputError(f"{self.where}: the brush code ends early (bit {self.at + n:,} of "
                             f"{self.bits.size:,}); the export is cut or not Label Studio's.")
        taken = self.bits[self.at:self.at + n]
        self.at += n
        return taken

    def read(self, n: int) -> int:
        return int("".join(map(str, self._take(n).tolist())) or "0", 2)

    def words(self, count: int, size: int) -> np.ndarray:
        chunk = self._take(count * size).reshape(count, size).astype(np.int64)
        return (chunk << np.arange(size - 1, -1, -1)).sum(1)


def _runs(words: np.ndarray) -> list[tuple[int, int]]:
    """[(value, length)] of the runs of equal words."""
    if not words.size:
        return []
    starts = np.flatnonzero(np.r_[True, words[1:] != words[:-1]])
    lengths = np.diff(np.r_[starts, words.size])
    return list(zip(words[starts].tolist(), lengths.tolist()))


def _length_fields(n: int) -> list[tuple[int, int]]:
    """The 2-bit field-size choice and the length-minus-one field of a chunk of n words."""
    choice = next(k for k, b in enumerate(FIELD_BITS) if n - 1 < 1 << b)
    return [(choice, 2), (n - 1, FIELD_BITS[choice])]


def _flush(literal: list[int], fields: list[tuple[int, int]]) -> None:
    """Write the pending single words as literal chunks and empty the list."""
    for start in range(0, len(literal), MAX_CHUNK):
        part = literal[start:start + MAX_CHUNK]
        fields += [(0, 1), *_length_fields(len(part))] + [(v, WORD_BITS) for v in part]
    literal.clear()
