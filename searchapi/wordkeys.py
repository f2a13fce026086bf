"""Every word start of every name, sorted by the bytes that follow: where typo search begins.

The failure this exists to prevent: a typo-tolerant search that costs tens of
milliseconds because it gathers candidates from whole trigram lists (the
lists of `san` or `de ` hold a tenth of the table) and then aligns the query
against thousands of names. A word within one edit of the query begins with
the query's first letters after at most that edit, so the words worth
aligning are found as patterns (`dar?`, `d?rw`, `?arw`: None for any letter)
over a sorted array: one binary search for the bytes before the wildcard,
one masked comparison for those after.

Two arrays, each sorted by an 8-byte big-endian key of the text after a word
start (zero past the name's end): one keyed from the word's first byte, one
from its second (for a pattern that starts with the wildcard). Each pairs its
keys with the word start's index in `CityIndex.word_starts`. Pure: arrays in,
arrays out.
"""

from dataclasses import dataclass

import numpy as np

_KEY_BYTES = 8
# A word's first bytes, None where any byte will do (at most 8).
Pattern = tuple[int | None, ...]


@dataclass(frozen=True)
class WordKeys:
    """Word starts sorted by the 8 bytes from `skip` bytes after the start."""

    keys: np.ndarray  # uint64, sorted
    at: np.ndarray  # uint32: index into CityIndex.word_starts

    def starting_with(self, patterns: list[Pattern]) -> np.ndarray:
        """Places in `self.keys` of the word starts whose text begins with one of `patterns`.

        Per pattern: the range of keys that begin with its bytes before the first
        wildcard (every range found by one binary-search call), then one masked
        comparison over that range for the bytes after it. A place may come more
        than once (once per pattern it matches).
        """
        lows, lasts, masks = [], [], []
        for pattern in patterns:
            wild = pattern.index(None) if None in pattern else len(pattern)
            shift = 8 * (_KEY_BYTES - wild)
            low = int.from_bytes(bytes(b for b in pattern[:wild] if b is not None), "big") << shift
            lows.append(low)
            lasts.append(low + (1 << shift) - 1)  # (the span's end may be 2**64: not a uint64)
            mask = value = 0
            for r, b in enumerate(pattern[wild + 1 :], start=wild + 1):
                if b is not None:
                    shift = 8 * (_KEY_BYTES - 1 - r)
                    mask |= 0xFF << shift
                    value |= b << shift
            masks.append((mask, value))
        starts = self.keys.searchsorted(np.array(lows, np.uint64), side="left").tolist()
        ends = self.keys.searchsorted(np.array(lasts, np.uint64), side="right").tolist()
        out = []
        for i, j, (mask, value) in zip(starts, ends, masks, strict=True):
            if not mask:
                out.append(np.arange(i, j))
                continue
            span = self.keys[i:j]
            out.append(np.flatnonzero((span & np.uint64(mask)) == np.uint64(value)) + i)
        return np.concatenate(out) if out else np.zeros(0, np.int64)

    @property
    def nbytes(self) -> int:
        """Memory held by the arrays."""
        return int(self.keys.nbytes + self.at.nbytes)


def word_keys(buf: np.ndarray, begin: np.ndarray, end: np.ndarray, skip: int) -> WordKeys:
    """Sorted keys of the text from `begin + skip` to `end` (exclusive) of each word."""
    key = np.zeros(len(begin), dtype=np.uint64)
    last = len(buf) - 1
    for t in range(_KEY_BYTES):
        pos = begin + (skip + t)
        byte = np.where(pos < end, buf[np.minimum(pos, last)], 0).astype(np.uint64)
        key = (key << np.uint64(8)) | byte
    order = np.argsort(key, kind="stable")
    return WordKeys(key[order], order.astype(np.uint32))
