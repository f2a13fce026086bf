"""Typo tolerance: the cities whose name has a word starting within a few edits of the query.

The distance is the optimal-string-alignment edit distance (insert, delete,
substitute, swap two neighbours) between the folded query and the best prefix
of the folded name read from one of its word starts (the name's start, or after
a space or hyphen), so `lodon` finds London and `darwn` Mount Darwin, and a
query still being typed (`zurih` for Zürich, `new yrok` for New York) counts
only the letters typed. A name the query is a substring of is at distance 0.
Edits count bytes of the folded UTF-8 name, which for Latin script (folded to
ASCII) are characters.

Candidates come from the trigram lists: a name within k edits keeps at least
`len(trigrams) - 4k` of the query's trigrams (a swap touches at most four);
the query's first trigram is anchored at a word start. Below that bound, one
shared trigram is still required, so a short query mangled in every trigram
is not found. The distances of all candidates are computed at once, column by
column, with numpy.
"""

import numpy as np

from searchapi.memindex import WORD_SEPARATORS, CityIndex, firsts, matches

# Longer queries are only matched exactly (their typos are rare and costly).
MAX_FUZZY_BYTES = 32
# Names whose edit distance is computed, per query: bounds the time of a search as you type.
MAX_CANDIDATES = 2000
MIN_FUZZY_CHARS = 3


def max_edits(query_bytes: int) -> int:
    """Edits allowed: 1 for queries up to 5 characters, 2 above that."""
    return 1 if query_bytes <= 5 else 2


def applies(folded: str) -> bool:
    """Whether a query is long enough (and short enough) for typo tolerance."""
    return len(folded) >= MIN_FUZZY_CHARS and len(folded.encode()) <= MAX_FUZZY_BYTES


def fuzzy_matches(ix: CityIndex, folded: str) -> tuple[np.ndarray, np.ndarray]:
    """(ranks, edits) of every city within the allowed edits of `folded`, exact ones at 0."""
    qb = folded.encode()
    k = max_edits(len(qb))
    exact = matches(ix, qb)
    cands = np.setdiff1d(_candidates(ix, qb, k), exact, assume_unique=True)
    edits = _prefix_edits(ix, qb, k, cands)
    keep = edits <= k
    ranks = np.concatenate((exact.astype(np.int64), cands[keep].astype(np.int64)))
    dist = np.concatenate((np.zeros(len(exact), np.int64), edits[keep].astype(np.int64)))
    return ranks, dist


def _candidates(ix: CityIndex, qb: bytes, k: int) -> np.ndarray:
    """Ranks sharing the most of the query's trigrams, the first ones at a word start.

    Anchored trigrams count twice and include the query's start with its first
    letters swapped or its second dropped (the commonest slips there). At most
    MAX_CANDIDATES are kept: most shared trigrams first, then most populous.
    """
    lists: list[np.ndarray] = []
    starts = dict.fromkeys((qb[:2], qb[1::-1], qb[0:1] + qb[2:3]))
    for head in starts:
        anchored = [ix.grams[3].get(bytes([sep]) + head) for sep in WORD_SEPARATORS]
        at_start = _distinct(np.concatenate(anchored))
        lists += [at_start, at_start]
    for gram in dict.fromkeys(qb[i : i + 3] for i in range(len(qb) - 2)):
        lists.append(ix.grams[3].get(gram))
    every = np.sort(np.concatenate(lists))
    first = np.flatnonzero(firsts(every))
    ranks, counts = every[first], np.diff(np.append(first, len(every)))
    if len(ranks) <= MAX_CANDIDATES:
        return ranks
    key = (-counts.astype(np.int64) << 32) | ix.pop_pos[ranks]
    return np.sort(ranks[np.argpartition(key, MAX_CANDIDATES - 1)[:MAX_CANDIDATES]])


def _distinct(a: np.ndarray) -> np.ndarray:
    """Sorted distinct values (np.unique's hashing is slower on these small arrays)."""
    a = np.sort(a)
    return a[firsts(a)]


def _prefix_edits(ix: CityIndex, qb: bytes, k: int, cands: np.ndarray) -> np.ndarray:
    """For each candidate, the fewest edits from `qb` to a prefix of a word-start suffix."""
    if len(cands) == 0:
        return np.zeros(0, dtype=np.int16)
    width = len(qb) + k
    buf = np.frombuffer(ix.names, dtype=np.uint8)
    cands = cands.astype(np.int64)
    lo = np.searchsorted(ix.word_starts, ix.starts[cands])
    hi = np.searchsorted(ix.word_starts, ix.starts[cands + 1])
    counts = hi - lo
    first = np.cumsum(counts) - counts
    total = int(counts.sum())
    which = np.repeat(np.arange(len(cands)), counts)
    begin = ix.word_starts[np.repeat(lo - first, counts) + np.arange(total)] + 1
    end = ix.starts[cands + 1][which]
    cols = np.arange(width)[:, None]
    pos = begin[None, :] + cols  # (width, words): column-major, so each step reads a row
    text = np.where(pos < end[None, :], buf[np.minimum(pos, len(buf) - 1)], 0)
    q = np.frombuffer(qb, dtype=np.uint8)
    # Anything above k is "too far": cells hold at most k + 1, and only the band
    # |i - j| <= k of the table can hold less, so only it is computed.
    cap = np.int16(k + 1)
    prev = np.full((width + 1, total), cap, dtype=np.int16)
    prev[: k + 1] = np.arange(k + 1, dtype=np.int16)[:, None]
    prev2 = prev
    for i in range(1, len(qb) + 1):
        lo, hi = max(1, i - k), min(width, i + k)
        best = np.minimum(
            prev[lo - 1 : hi] + (text[lo - 1 : hi] != q[i - 1]), prev[lo : hi + 1] + 1
        )
        if i > 1 and hi >= 2:
            s0 = max(lo, 2)
            swap = (text[s0 - 2 : hi - 1] == q[i - 1]) & (text[s0 - 1 : hi] == q[i - 2])
            tail = best[s0 - lo :]
            np.copyto(tail, np.minimum(tail, prev2[s0 - 2 : hi - 1] + 1), where=swap)
        cur = np.full_like(prev, cap)
        if i <= k:
            cur[0] = i
        # cur[j] = min(best[j], cur[j-1] + 1): a running minimum of best[j'] + (j - j').
        seg = np.concatenate((cur[lo - 1 : lo], best))
        steps = np.arange(len(seg), dtype=np.int16)[:, None]
        cur[lo - 1 : hi + 1] = np.minimum(np.minimum.accumulate(seg - steps, axis=0) + steps, cap)
        prev2, prev = prev, cur
    avail = np.minimum(end - begin, width)
    last = np.where(np.arange(width + 1)[:, None] <= avail[None, :], prev, cap)
    return np.minimum.reduceat(last.min(axis=0), first)
