"""Edit distances from a query to the prefixes of many words, each shared prefix aligned once.

The failure this exists to prevent: a typo search whose cost is the number of
candidate words times the letters aligned. The candidates of a common head
(`sa?`, `ba?`) are 20,000-29,000 words, yet as a trie of their first m + k
letters they are a fifth of that: `san jose`, `san juan` and `santa` share
`san`, whose column of the edit table is computed once. The words are taken in
the order of their text (the order of `CityIndex.word_keys[0]`, whose first
8 bytes are their keys), so the trie's nodes at each depth are runs of
neighbouring rows, found with one comparison of neighbours per depth.

Pure: arrays in, arrays out. `text_order` derives one array per index (the
inverse of the key order) and keeps it for the current index only.
"""

import weakref

import numpy as np

from searchapi.memindex import CityIndex

_KEY_BYTES = 8
_ONE = np.uint64(1)
# The index `text_order` last served and its array (a weak reference: a
# replaced index is freed, not kept alive by this cache).
_cached: tuple["weakref.ref[CityIndex]", np.ndarray] | None = None


def text_order(ix: CityIndex) -> np.ndarray:
    """Each word start's place in the order of its text (uint32; computed once per index)."""
    global _cached
    if _cached is not None and _cached[0]() is ix:
        return _cached[1]
    at = ix.word_keys[0].at
    place = np.empty(len(at), dtype=np.uint32)
    place[at] = np.arange(len(at), dtype=np.uint32)
    _cached = (weakref.ref(ix), place)
    return place


class _Rows:
    """The words still being aligned: their rows of `places`, bytes, and shared prefix lengths.

    Kept together and narrowed together (`keep`) when nodes stop, so a depth
    touches only the rows still going.
    """

    def __init__(self, ix: CityIndex, places: np.ndarray, depth: int, trie: bool) -> None:
        self._ix = ix
        self.ids = np.arange(len(places))
        self.places = places
        keys = ix.word_keys[0].keys[places].astype(">u8").view(np.uint8).reshape(-1, _KEY_BYTES)
        self.first = np.ascontiguousarray(keys.T[: min(depth, _KEY_BYTES)])
        # How many of its first bytes (up to 8) a row shares with the row before.
        self.shared = np.zeros(len(places), dtype=np.uint8)
        if trie and len(places) > 1:
            same = self.first[:, 1:] == self.first[:, :-1]
            alike = same[0].copy()  # (numpy's logical_and.accumulate is ten times slower)
            self.shared[1:] = alike
            for b in range(1, len(same)):
                alike &= same[b]
                self.shared[1:] += alike
        self._bounds: tuple[np.ndarray, np.ndarray] | None = None

    def byte(self, j: int) -> np.ndarray:
        """Byte j of each row's word (0 past its name's end)."""
        if j < _KEY_BYTES:
            return self.first[j]
        if self._bounds is None:
            ix = self._ix
            words = ix.word_keys[0].at[self.places]
            end = ix.starts[ix.word_owner[words].astype(np.int64) + 1]
            self._bounds = (ix.word_starts[words] + 1, end)
        begin, end = self._bounds
        buf = np.frombuffer(self._ix.names, np.uint8)
        at = begin + j
        return np.where(at < end, buf[np.minimum(at, len(buf) - 1)], 0).astype(np.uint8)

    def keep(self, mask: np.ndarray) -> None:
        """Only the rows of `mask` go on."""
        self.ids, self.places = self.ids[mask], self.places[mask]
        self.first, self.shared = self.first[:, mask], self.shared[mask]
        if self._bounds is not None:
            self._bounds = (self._bounds[0][mask], self._bounds[1][mask])


def _least_near_diagonal(pv: np.ndarray, mv: np.ndarray, col: int, m: int, k: int) -> np.ndarray:
    """Per node, the least value of its edit-table column `col` within k rows of the diagonal.

    A cell farther off is more than k anyway, and no later column holds less
    than this column's least (a path to a later cell crosses it, or swaps
    across it at no less), so a node whose least exceeds its best so far can
    stop. Rows lo..hi: the value at lo from the bits below it, then the least
    running sum of the next deltas, read from a table of every bit pattern.
    """
    lo, hi = max(0, col - k), min(m, col + k)
    low = np.uint64((1 << lo) - 1)
    at_lo = np.bitwise_count(pv & low).astype(np.int16) - np.bitwise_count(mv & low) + col
    w = np.uint64(hi - lo)
    window = np.uint64((1 << (hi - lo)) - 1)
    lo64 = np.uint64(lo)
    pattern = ((pv >> lo64) & window) | (((mv >> lo64) & window) << w)
    return np.asarray(at_lo + _least_running_sum(hi - lo)[pattern])


_SUMS: dict[int, np.ndarray] = {}


def _least_running_sum(w: int) -> np.ndarray:
    """For each pair of w-bit patterns p, n (packed p | n << w): min(0, least prefix sum p - n)."""
    if w not in _SUMS:
        table = np.zeros(1 << (2 * w), dtype=np.int16)
        for key in range(len(table)):
            total = least = 0
            for i in range(w):
                total += (key >> i & 1) - (key >> (w + i) & 1)
                least = min(least, total)
            table[key] = least
        _SUMS[w] = table
    return _SUMS[w]


# Nodes are checked for an early stop only while they are this many (below,
# the check costs more than it saves).
_CHECK_FROM = 1024
# Fewer words than this are aligned one by one: finding their shared
# prefixes costs more numpy calls than it saves work.
_TRIE_FROM = 2048
# Rows are narrowed to the nodes going on only when that leaves fewer than
# this share of them.
_NARROW_BELOW = 0.75


def prefix_edits(ix: CityIndex, places: np.ndarray, qb: bytes, k: int) -> np.ndarray:
    """Per word at `places`, the fewest edits from `qb` to a prefix of it, at most k + 1.

    Any order gives the same answer; text order (sorted places) makes words
    that share a prefix neighbours, and so one node.

    The distance is the optimal string alignment distance (a swap of two
    neighbours is one edit), computed bit-parallel (Myers, with Hyyrö's swap
    term): a node's column of the edit table is a few bits of uint64, and one
    depth of every node is a dozen numpy operations. Bits above the query's
    are never masked off: every operation carries upwards only, and only bits
    below m are read. A word shorter than the depth reads zeros, which match
    nothing and so never lower its least last-row value; such a node stops,
    as does one that can no longer do better than it has (see
    _least_near_diagonal), and its words keep their best so far.
    """
    n, m = len(places), len(qb)
    out = np.full(n, k + 1, dtype=np.int8)
    if n == 0:
        return out
    trie = n >= _TRIE_FROM
    rows = _Rows(ix, places, m + k, trie)
    peq = np.zeros(256, dtype=np.uint64)
    for i, byte in enumerate(qb):
        peq[byte] |= np.uint64(1 << i)
    full = np.uint64((1 << m) - 1)
    nodes = 1 if trie else n
    pv = np.full(nodes, full, dtype=np.uint64)
    mv, d0, eq_prev = (np.zeros(nodes, dtype=np.uint64) for _ in range(3))
    best = np.full(nodes, k + 1, dtype=np.int16)
    # The rows that begin a node (a trie's) at the depth before this one.
    begins = np.zeros(n, dtype=bool)
    begins[0] = True
    for j in range(m + k):
        letter = row = rows.byte(j)
        if trie:
            if j < _KEY_BYTES:
                fresh = rows.shared <= j
            else:
                fresh = np.empty(len(row), dtype=bool)
                np.not_equal(row[1:], row[:-1], out=fresh[1:])
                fresh |= begins
            fresh[0] = True
            starts = np.flatnonzero(fresh)
            if len(starts) != len(pv):  # (else every node goes on alone)
                parent = np.cumsum(begins[starts]) - 1
                pv, mv, d0, eq_prev = pv[parent], mv[parent], d0[parent], eq_prev[parent]
                best = best[parent]
            begins = fresh
            letter = row[starts]
        eq = peq[letter]
        swap = ((~d0 & eq) << _ONE) & eq_prev
        d0 = swap | (((eq & pv) + pv) ^ pv) | eq | mv
        hp = mv | ~(d0 | pv)
        hn = pv & d0
        hp = (hp << _ONE) | _ONE
        pv = (hn << _ONE) | ~(d0 | hp)
        mv = hp & d0
        eq_prev = eq
        if j + 1 >= m - k:  # (before, the last row is still more than k)
            last = np.bitwise_count(pv & full).astype(np.int16) - np.bitwise_count(mv & full)
            np.minimum(best, last + (j + 1), out=best)
        if len(pv) >= _CHECK_FROM and j + 1 < m + k:
            going = (letter != 0) & (_least_near_diagonal(pv, mv, j + 1, m, k) < best)
            if trie:  # (rows per node)
                sizes = np.empty(len(starts), dtype=np.int64)
                np.subtract(starts[1:], starts[:-1], out=sizes[:-1])
                sizes[-1] = len(row) - starts[-1]
                kept = int(np.dot(sizes, going))
            else:
                kept = int(np.count_nonzero(going))
            if kept > len(row) * _NARROW_BELOW:
                continue  # (narrowing every row costs more than aligning the few stopped)
            keep_rows = np.repeat(going, sizes) if trie else going
            stopped = ~going
            ended = best[stopped]
            if (ended <= k).any():
                out[rows.ids[~keep_rows]] = np.repeat(ended, sizes[stopped]) if trie else ended
            if trie:
                begins = begins[keep_rows]
            rows.keep(keep_rows)
            pv, mv, d0, eq_prev, best = pv[going], mv[going], d0[going], eq_prev[going], best[going]
            if kept == 0:
                return out
    out[rows.ids] = best[np.cumsum(begins) - 1] if trie else best
    return out
