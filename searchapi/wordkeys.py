"""Every word start of every name, sorted by the bytes that follow: where typo search begins.

The failure this exists to prevent: a typo-tolerant search that costs tens of
milliseconds because it gathers candidates from whole trigram lists (the
lists of `san` or `de ` hold a tenth of the table) and then aligns the query
against thousands of names. Sorted by the text that follows them, the word
starts are a trie already: words that share a prefix are neighbours, and
typotrie.py derives the trie's nodes from these keys once per index.

Two arrays, each sorted by an 8-byte big-endian key of the text after a word
start (zero past the name's end): one keyed from the word's first byte, one
from its second. Each pairs its keys with the word start's index in
`CityIndex.word_starts`. Typo search reads only the first; the second stays
in the stored index's format (dropping it changes what the loader stores).
Pure: arrays in, arrays out.
"""

from dataclasses import dataclass

import numpy as np

_KEY_BYTES = 8


@dataclass(frozen=True)
class WordKeys:
    """Word starts sorted by the 8 bytes from `skip` bytes after the start."""

    keys: np.ndarray  # uint64, sorted
    at: np.ndarray  # uint32: index into CityIndex.word_starts

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
