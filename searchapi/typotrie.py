"""Edit distances from a query to word starts: one walk down a trie of them all, built once.

The failure this exists to prevent: a typo search whose cost is the number of
numpy calls spent gathering candidate words, sorting them and building them
into a trie on every query, then a dozen more calls per letter to align them.
The word starts in the order of their text (the order of
`CityIndex.word_keys[0]`, sorted by their first 8 bytes) are a trie already:
every node of depth d <= 8 is a run of neighbours sharing d bytes. Where
those runs begin, their byte and their children are derived once per index
(`WordTrie`). A query walks it breadth-first from the root, every node of a
depth at once: one table lookup steps each node's state of the band automaton
(editband.py) by its letter, and a node stops when its head is off or it
cannot come within the bound, so the work follows the few nodes near the
query, not the thousands of words below them.

Pure: arrays in, arrays out. `word_trie` keeps the derived arrays for the
current index only (a weak reference: a replaced index is freed).
"""

import weakref
from dataclasses import dataclass

import numpy as np

from searchapi.editband import Band, band, chi_table
from searchapi.memindex import CityIndex

_KEY_BYTES = 8


@dataclass(frozen=True)
class WordTrie:
    """The word starts in text order, and the trie's nodes of depth 1 to 8 over them.

    The nodes of depth d are the runs of places sharing their first d bytes:
    node i is places [begins[d][i], begins[d][i + 1]), its byte d is
    letters[d][i] (0: its words end before it), and its children that go on
    (byte d + 1 not 0) are nodes kids[d][0][i] to kids[d][1][i] of depth d + 1.
    Depth 0 is the root, one node of every place.
    """

    keys: np.ndarray  # uint64: each place's first 8 bytes (big-endian, 0 past the name's end)
    at: np.ndarray  # uint32: each place's index in CityIndex.word_starts
    place: np.ndarray  # uint32: each word start's place (the inverse of `at`)
    begins: tuple[np.ndarray, ...]  # uint32 per depth 0..8: node starts, then len(at)
    letters: tuple[np.ndarray, ...]  # uint8 per depth 0..8 (depth 0: a 0 for the root)
    kids: tuple[tuple[np.ndarray, np.ndarray], ...]  # uint32 per depth 0..7: first, end child

    @property
    def nbytes(self) -> int:
        """Memory held by the derived arrays (`keys` and `at` belong to the index)."""
        parts = (self.place, *self.begins, *self.letters, *(a for k in self.kids for a in k))
        return int(sum(a.nbytes for a in parts))


# The index `word_trie` last served and its trie.
_cached: tuple["weakref.ref[CityIndex]", WordTrie] | None = None


def word_trie(ix: CityIndex) -> WordTrie:
    """The index's word trie (computed once per index, tens of milliseconds at 170k)."""
    global _cached
    if _cached is not None and _cached[0]() is ix:
        return _cached[1]
    trie = build_trie(ix.word_keys[0].keys, ix.word_keys[0].at)
    _cached = (weakref.ref(ix), trie)
    return trie


def build_trie(keys: np.ndarray, at: np.ndarray) -> WordTrie:
    """The trie of the texts whose sorted 8-byte keys are `keys` (`at`: their word starts)."""
    n = len(at)
    place = np.empty(n, dtype=np.uint32)
    place[at] = np.arange(n, dtype=np.uint32)
    begins = [np.array([0, n], dtype=np.uint32)]
    letters = [np.zeros(1, dtype=np.uint8)]
    run = np.zeros(n, dtype=bool)
    run[:1] = True
    for d in range(1, _KEY_BYTES + 1):
        head = keys >> np.uint64(8 * (_KEY_BYTES - d))
        run[1:] |= head[1:] != head[:-1]  # (a node's children begin where it does, and more)
        starts = np.flatnonzero(run)
        begins.append(np.append(starts, n).astype(np.uint32))
        letters.append((head[starts] & np.uint64(0xFF)).astype(np.uint8))
    kids = []
    for d in range(_KEY_BYTES):
        first = np.searchsorted(begins[d + 1], begins[d]).astype(np.uint32)
        # (a child whose words end sorts first among its siblings: skip it; no words, no child)
        below = letters[d + 1]
        ended = below[np.minimum(first[:-1], len(below) - 1)] == 0 if len(below) else first[1:] > 0
        kids.append((first[:-1] + ended, first[1:]))
    return WordTrie(keys, at, place, tuple(begins), tuple(letters), tuple(kids))


def text_order(ix: CityIndex) -> np.ndarray:
    """Each word start's place in the order of its text (uint32; computed once per index)."""
    return word_trie(ix).place


def spans(begin: np.ndarray, counts: np.ndarray) -> np.ndarray:
    """begin[i], begin[i] + 1, ..., begin[i] + counts[i] - 1 for every i, in one array (int64)."""
    # (as int64: unsigned sums and differences would wrap, or turn float beside int64)
    begin, counts = begin.astype(np.int64), counts.astype(np.int64)
    ends = np.add.accumulate(counts)  # (np.cumsum's wrapper costs more than the sum)
    total = int(ends[-1]) if len(counts) else 0
    return np.arange(total) + (begin - (ends - counts)).repeat(counts)


def prefix_edits(
    ix: CityIndex,
    qb: bytes,
    k: int,
    head: int | None,
    free: np.ndarray,
) -> tuple[np.ndarray, np.ndarray]:
    """(places, edits) of the word starts within k edits of `qb` at a prefix of their text.

    The words walked: those whose first `head` letters are the query's after
    at most one edit there (none when None; see `_Walk.in_head`), and those at
    the places `free` whatever their head, which ride along the trie's nodes
    as rows of their own. Each word found comes with its fewest edits,
    possibly more than once (take the least).

    Each node or row holds its state of the band automaton (editband.py) and
    its best so far; a depth is one successor lookup for all of them, and
    those whose band cannot come below their best stop. A word shorter than
    the depth reads zeros, which equal no query letter and so never lower its
    best. Past depth 8 the few nodes left are split into their words, whose
    further letters are read from the names.
    """
    deepest, t = len(qb) + k, head or 0
    trie = word_trie(ix)
    front = _Frontier.start(trie, head is not None, free)
    walk = _Walk(band(k), chi_table(qb, k), len(qb), front.size)
    for d in range(1, min(deepest, _KEY_BYTES) + 1):
        parent, letter = front.descend(d)
        walk.take(parent)
        lowered = walk.read(d, letter)
        if lowered is not None:
            walk.record(*front.ranges(d, lowered))
        check = d < deepest and _check(d, k, front.size)
        if 1 < d <= t or check:  # (at depth 1 every head is still within one edit)
            keep = walk.near(d) if check else np.ones(front.size, dtype=bool)
            if d <= t:  # (the rows ride along whatever their head)
                keep[: front.split] &= walk.in_head(d, t, front.split)
            going = keep.nonzero()[0]
            walk.take(going)
            front.keep(going)
            if len(going) == 0:
                return walk.words()
    if deepest > _KEY_BYTES and front.size:
        _walk_rows(ix, trie, walk, front.nodes, front.rows, deepest)
    return walk.words()


@dataclass
class _Frontier:
    """The nodes of one depth, then the free rows riding along: the walk's order."""

    trie: WordTrie
    nodes: np.ndarray  # int64: node indices at the current depth
    rows: np.ndarray  # int64: places
    row_bytes: np.ndarray  # uint8 (8, rows): each row's first 8 bytes, one line per depth

    @classmethod
    def start(cls, trie: WordTrie, root: bool, free: np.ndarray) -> "_Frontier":
        """The root (when `root`) and the rows at places `free`."""
        rows = np.asarray(free, dtype=np.int64)
        row_bytes = trie.keys[rows].astype(">u8").view(np.uint8).reshape(-1, _KEY_BYTES).T
        return cls(trie, np.zeros(int(root), dtype=np.int64), rows, row_bytes)

    @property
    def split(self) -> int:
        """How many nodes come before the rows."""
        return len(self.nodes)

    @property
    def size(self) -> int:
        """Nodes and rows."""
        return len(self.nodes) + len(self.rows)

    def descend(self, d: int) -> tuple[np.ndarray, np.ndarray]:
        """Go to depth d: (each entry's index at the depth before, each entry's letter d)."""
        n_before = self.size
        self.nodes, parent = _children(self.trie, d, self.nodes)
        letter = self.trie.letters[d][self.nodes]
        if len(self.rows):
            parent = np.concatenate((parent, np.arange(n_before - len(self.rows), n_before)))
            letter = np.concatenate((letter, self.row_bytes[d - 1]))
        return parent, letter

    def ranges(self, d: int, idx: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """The places [lo, hi) of the entries at `idx` (sorted): a node's words, or a row."""
        begins, cut = self.trie.begins[d], int(idx.searchsorted(self.split))
        at_node, at_row = self.nodes[idx[:cut]], self.rows[idx[cut:] - self.split]
        return (
            np.concatenate((begins[at_node], at_row)),
            np.concatenate((begins[at_node + 1], at_row + 1)),
        )

    def keep(self, going: np.ndarray) -> None:
        """Keep only the entries at `going` (sorted indices)."""
        if len(self.rows) == 0:
            self.nodes = self.nodes[going]
            return
        cut = int(going.searchsorted(self.split))
        kept = going[cut:] - self.split
        self.nodes, self.rows, self.row_bytes = (
            self.nodes[going[:cut]],
            self.rows[kept],
            self.row_bytes[:, kept],
        )


def _children(trie: WordTrie, d: int, nodes: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The children (of depth d) of `nodes` (of depth d - 1) whose words go on, and their parents.

    A parent is an index into `nodes`.
    """
    kids_first, kids_end = trie.kids[d - 1]
    first = kids_first[nodes]
    counts = kids_end[nodes] - first
    return spans(first, counts), np.arange(len(nodes)).repeat(counts)


# Fewer nodes than this are checked for an early stop every other depth only.
_CHECK_ALL = 256


def _check(d: int, k: int, n: int) -> bool:
    """Whether to look for nodes that can stop at depth d (of n nodes).

    Not before depth k + 1 (every band still holds a value within k there),
    and among fewer than `_CHECK_ALL` nodes every other depth: the look costs
    a few numpy calls, more than the few nodes it would stop. (Stopping only
    saves work: a node that could have stopped never records again, no cell
    of its band coming below its best.)
    """
    return d > k and (d % 2 == 0 or n >= _CHECK_ALL)


class _Walk:
    """The automaton states and bests of the nodes (or rows) at one depth, and what they found."""

    def __init__(self, auto: Band, chi_of: np.ndarray, m: int, n: int) -> None:
        self._auto, self._chi_of, self._m = auto, chi_of, m
        self.state = np.zeros(n, dtype=np.int64)
        self.best = np.full(n, auto.k + 1, dtype=np.int8)
        self._lo: list[np.ndarray] = []
        self._hi: list[np.ndarray] = []
        self._edits: list[np.ndarray] = []
        self._lowered = np.zeros(0, dtype=np.int8)
        self._dropped: np.ndarray | None = None  # (between depths t - 1 and t, see in_head)

    @property
    def k(self) -> int:
        """The bound."""
        return self._auto.k

    def take(self, idx: np.ndarray) -> None:
        """Keep the nodes at `idx` (indices), in that order."""
        self.state, self.best = self.state[idx], self.best[idx]
        if self._dropped is not None:
            self._dropped = self._dropped[idx]

    def read(self, d: int, letter: np.ndarray) -> np.ndarray | None:
        """Step every node by its letter at depth d; the indices of those whose best it lowered."""
        self.state = self._auto.next.take(self.state | self._chi_of[d].take(letter))
        r = self._m - d
        if abs(r) > self._auto.k:  # (the query's last row is off the band: more than k)
            return None
        value = self._auto.value[r + self._auto.k].take(self.state)
        lower = (value < self.best).nonzero()[0]
        if len(lower) == 0:
            return None
        self._lowered = self.best[lower] = value[lower]
        return lower

    def record(self, lo: np.ndarray, hi: np.ndarray) -> None:
        """The places [lo, hi) of the nodes `read` just lowered, at their new bests.

        Deeper nodes record later, and only when they do better than their
        parent: a word's least is the least of its records (its deepest).
        """
        self._lo.append(lo)
        self._hi.append(hi)
        self._edits.append(self._lowered)

    def near(self, d: int) -> np.ndarray:
        """Mask of the nodes whose band, up to the query's last row, can still beat their best.

        No later column holds less than this one's least (a path to a later
        cell crosses it, or swaps across it at no less).
        """
        c = min(self._m - d + self._auto.k, 2 * self._auto.k)
        return np.asarray(self._auto.least[c].take(self.state) < self.best)

    def in_head(self, d: int, t: int, n: int) -> np.ndarray:
        """Mask of the first n nodes whose first t letters may still be the query's
        after at most one edit there (decided at depth t).

        At t: the text's first t letters are within one edit of the query's
        first t - 1, t or t + 1 (one added; one replaced or two swapped; one
        dropped, or a swap across the head's end), or its first t - 1 of the
        query's first t (one dropped, the next letter free): the central cells
        of the band at t, and one at t - 1, noted then for the children. These
        are the rule's head patterns, `dar?`, `d?rw`, `?arw` and the like,
        without building them. Before t: a central cell holds at most 1 (a
        path to one within 1 edit at t crosses this column there).
        """
        ok = self._auto.central.take(self.state[:n]) <= 1
        if d == t - 1:
            self._dropped = self._auto.value[self._auto.k + 1].take(self.state) <= 1
        elif d == t and self._dropped is not None:
            ok |= self._dropped[:n]
            self._dropped = None
        return np.asarray(ok)

    def words(self) -> tuple[np.ndarray, np.ndarray]:
        """(places, edits) of every recorded word; a word may come several times."""
        if not self._lo:
            return np.zeros(0, np.int64), np.zeros(0, np.int8)
        lo, hi = np.concatenate(self._lo), np.concatenate(self._hi)
        counts = hi - lo
        return spans(lo, counts), np.concatenate(self._edits).repeat(counts)


def _walk_rows(
    ix: CityIndex, trie: WordTrie, walk: _Walk, nodes: np.ndarray, rows: np.ndarray, deepest: int
) -> None:
    """Past the keys' 8 bytes: each word of `nodes` (of depth 8) and each row on its own,
    their further bytes read from the names all at once."""
    begins = trie.begins[_KEY_BYTES]
    first = begins[nodes]
    counts = begins[nodes + 1] - first
    spread = np.arange(len(nodes)).repeat(counts)
    walk.take(np.concatenate((spread, np.arange(len(rows)) + len(nodes))))
    places = np.concatenate((spans(first, counts), rows))
    words = trie.at[places]
    begin = ix.word_starts[words] + 1
    end = ix.starts[ix.word_owner[words].astype(np.int64) + 1]
    at = begin + np.arange(_KEY_BYTES, deepest)[:, None]  # (one row per depth)
    buf = np.frombuffer(ix.names, np.uint8)
    letters = np.where(at < end, buf[np.minimum(at, len(buf) - 1)], 0)
    ids = np.arange(len(places))
    for d in range(_KEY_BYTES + 1, deepest + 1):
        lowered = walk.read(d, letters[d - _KEY_BYTES - 1][ids])
        if lowered is not None:
            walk.record(places[lowered], places[lowered] + 1)
        if d < deepest and _check(d, walk.k, len(places)):
            going = walk.near(d).nonzero()[0]
            walk.take(going)
            places, ids = places[going], ids[going]
            if len(places) == 0:
                return
