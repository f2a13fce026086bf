"""Typo tolerance: the cities whose name has a word starting within a few edits of the query.

The distance is the optimal-string-alignment edit distance (insert, delete,
substitute, swap two neighbours) between the folded query and the best prefix
of the folded name read from one of its word starts (the name's start, or after
a space or hyphen), so `lodon` finds London and `darwn` Mount Darwin, and a
query still being typed (`zurih` for Zürich, `new yrok` for New York) counts
only the letters typed. A name the query is a substring of is at distance 0.
Edits count bytes of the folded UTF-8 name, which for Latin script (folded to
ASCII) are characters.

The words considered (the rule that decides which typos are found, kept as
it was when candidates were gathered per query by key patterns): those whose
first `t` letters (`head_length`) are the query's after at most one edit there
(kept, swapped, one dropped, one added, one replaced), and, with two edits
allowed, those where the query's letters after the head appear unchanged
within two places of where they belong (`unchanged_places`: both edits in the
head). So a word mangled twice in its head whose tail moved too is not found
(`corbas` for `cibras`), though within two edits.

They are aligned by one walk down a trie of every word start, built once per
index (typotrie.py), a letter of every branch at a time: a branch stops when
its head is off (more than one edit in it), or when it cannot come within the
bound (editband.py); a prefix shared by many words is read once.
"""

import numpy as np

from searchapi import editband, typotrie
from searchapi.memindex import CityIndex, firsts, isin_sorted, matches

# Longer queries are only matched exactly (their typos are rare and costly).
MAX_FUZZY_BYTES = 32
MIN_FUZZY_CHARS = 3


def max_edits(query_bytes: int) -> int:
    """Edits allowed: 1 for queries up to 5 characters, 2 above that."""
    return 1 if query_bytes <= 5 else 2


def applies(folded: str) -> bool:
    """Whether a query is long enough (and short enough) for typo tolerance."""
    return len(folded) >= MIN_FUZZY_CHARS and len(folded.encode()) <= MAX_FUZZY_BYTES


def warm(ix: CityIndex) -> None:
    """Build what typo search on `ix` needs: its word trie, and the automata (once a process)."""
    typotrie.word_trie(ix)
    for k in {max_edits(m) for m in range(MIN_FUZZY_CHARS, MAX_FUZZY_BYTES + 1)}:
        editband.band(k)


def fuzzy_matches(
    ix: CityIndex, folded: str, exact: np.ndarray | None = None
) -> tuple[np.ndarray, np.ndarray]:
    """(ranks, edits) of every city within the allowed edits of `folded`, exact ones at 0.

    `exact`: the query's exact matches (`matches(ix, folded)`) when the caller has them.
    """
    qb = folded.encode()
    if exact is None:
        exact = matches(ix, qb)
    k = max_edits(len(qb))
    places, edits = typotrie.prefix_edits(ix, qb, k, head_length(qb), unchanged_places(ix, qb))
    ranks, edits = _best_per_city(ix, places, edits)
    keep = ~isin_sorted(ranks, exact)
    return (
        np.concatenate((exact.astype(np.int64), ranks[keep])),
        np.concatenate((np.zeros(len(exact), np.int64), edits[keep].astype(np.int64))),
    )


def head_length(qb: bytes) -> int:
    """How many of the query's first letters hold at most one of its edits (see the module)."""
    m = len(qb)
    return min(4, m) if max_edits(m) == 1 else max(3, min(5, m - 4))


def unchanged_places(ix: CityIndex, qb: bytes) -> np.ndarray:
    """Places in text order (typotrie.text_order) of the words with both edits in the head.

    With one edit allowed, or two with at most one among the first `t`
    letters, a word begins with `qb[:t]` after at most one edit there (which
    the trie walk checks as it goes). With two in the head, the next letters
    appear unchanged within two places of where they belong: those words are
    found here, by their text.
    """
    if max_edits(len(qb)) == 1:
        return np.zeros(0, np.int64)
    t = head_length(qb)
    # (the second piece: a swap across the head's end changes the first)
    starts = dict.fromkeys((min(t, len(qb) - 3), min(t + 1, len(qb) - 3)))
    words = np.concatenate([_unchanged_after(ix, qb[s : s + 5], s) for s in starts])
    places = typotrie.text_order(ix)[words]
    places.sort()  # (and each once: np.unique costs several times this)
    return places[firsts(places)]


def _unchanged_after(ix: CityIndex, piece: bytes, t: int) -> np.ndarray:
    """Word starts of names holding `piece` between t - 2 and t + 2 bytes into the word."""
    ranks = matches(ix, piece)
    lo = ix.first_word[ranks]
    words = typotrie.spans(lo, ix.first_word[ranks + 1] - lo)
    if len(words) == 0:
        return words
    # At each offset o into the word (t - 2 + o), the 8 bytes there as one
    # uint64 (a view of the names at every byte, no copy; little-endian, so
    # the bytes first in the text are the low ones): the piece is at o when
    # that value's low len(piece) bytes are the piece's. One row per offset.
    first = max(0, t - 2)
    at = ix.word_starts[words] + (first + 1) + np.arange(t + 3 - first)[:, None]
    if int(at[-1, -1]) + 8 > len(ix.names):  # (the last name's words: the largest at)
        return _unchanged_near_the_end(ix, piece, words, at.T)
    eight = np.ndarray((len(ix.names) - 7,), dtype="<u8", buffer=ix.names, strides=(1,))
    low = np.uint64((1 << 8 * len(piece)) - 1)
    found = (eight[at] & low) == np.uint64(int.from_bytes(piece, "little"))
    return words[np.logical_or.reduce(found)]


def _unchanged_near_the_end(
    ix: CityIndex, piece: bytes, words: np.ndarray, at: np.ndarray
) -> np.ndarray:
    """`_unchanged_after` where a window reaches past the names' end (read as their last byte)."""
    buf = np.frombuffer(ix.names, np.uint8)
    window = buf[np.minimum(at[:, :1] + np.arange(at.shape[1] + len(piece) - 1), len(buf) - 1)]
    found = window[:, : at.shape[1]] == piece[0]
    for b in range(1, len(piece)):
        found &= window[:, b : b + at.shape[1]] == piece[b]
    return words[found.any(axis=1)]


def closest(ix: CityIndex, qb: bytes, k: int, words: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(sorted ranks, edits) of the cities of `words` within `k` edits, each at its best word."""
    free = np.unique(typotrie.text_order(ix)[words])
    return _best_per_city(ix, *typotrie.prefix_edits(ix, qb, k, None, free))


def _best_per_city(
    ix: CityIndex, places: np.ndarray, edits: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """(sorted ranks, edits): the cities of the words at `places`, each with its least edits.

    Many words (a short query's common head: `ban` has 21,000): the least per
    city in an array of every city, read back in rank order (linear, no sort).
    Else one sort of rank and edits packed in one integer (edits <= 3), which
    puts each city's least first.
    """
    owner = ix.word_owner[typotrie.word_trie(ix).at[places]].astype(np.int64)
    if len(owner) * _DENSE_FROM > ix.size:
        least = np.full(ix.size, 127, dtype=np.int8)
        np.minimum.at(least, owner, edits)
        ranks = (least < 127).nonzero()[0]
        return ranks, least[ranks]
    key = np.sort((owner << 2) | edits)
    ranks = key >> 2
    best = firsts(ranks)
    return ranks[best], (key[best] & 3).astype(np.int8)


# Above one word per this many cities, the least per city is kept in an array of them all.
_DENSE_FROM = 8
