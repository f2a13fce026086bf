"""The in-process search index: every city's folded name and answer, held compactly.

Built from the tables the loader writes (city_rows and city_search, in rank
order = the seed's country-then-name order), never from anything else, so an
answer from here equals one from MariaDB. Pure: rows in, arrays out, no I/O.

Layout, chosen for memory (a few bytes per posting) and for answers whose work
grows with the answer, not with the table:

- `names`: one bytes object, `\\n` + the folded UTF-8 name of every city in
  rank order; `starts[r]` is the position of city r's `\\n`. A folded name
  never holds a newline, so a pattern that starts with `\\n` is a name prefix.
  UTF-8 is self-synchronising: bytes containment is string containment.
- `grams[k]` (k = 2..5): every distinct k-byte substring of that text that
  holds no newline after its first byte (k = 2: only those starting with one),
  with the sorted ranks of the cities containing it. A pattern of at most 5
  bytes is one list, exactly its answer; a longer one intersects the lists of
  its 5-grams and confirms the few survivors with `bytes.find`.
- `items`: each city's JSON object, rendered once by MariaDB's JSON_OBJECT
  (byte for byte what the SQL path returns); a page is a join of slices.
- Per-rank arrays: population order, country code, coordinates, word starts.
"""

from array import array
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np

from searchapi.wordkeys import WordKeys, word_keys

MAX_GRAM = 5
_OWNER_BITS = 24  # ranks below 2**24 (16.7M cities) pack beside a 40-bit gram key
_NL = 10
WORD_SEPARATORS = (ord("\n"), ord(" "), ord("-"))

# The item's JSON object (rendered by MariaDB's JSON_OBJECT, as its own path
# does), country code, population, latitude, longitude, folded name.
Row = tuple[str, str | None, int, float, float, str]


@dataclass(frozen=True)
class GramTable:
    """The sorted distinct k-byte grams and, for each, its sorted list of ranks."""

    size: int
    keys: np.ndarray  # uint64, sorted
    bounds: np.ndarray  # uint32, len(keys) + 1; ranks of keys[i] = owners[bounds[i]:bounds[i+1]]
    owners: np.ndarray  # uint32

    def get(self, gram: bytes) -> np.ndarray:
        """Ranks of the cities whose text holds `gram` (empty when none)."""
        key = np.uint64(int.from_bytes(gram, "big"))
        i = int(np.searchsorted(self.keys, key))
        if i == len(self.keys) or self.keys[i] != key:
            return _EMPTY
        return self.owners[self.bounds[i] : self.bounds[i + 1]]

    @property
    def nbytes(self) -> int:
        """Memory held by the arrays."""
        return int(self.keys.nbytes + self.bounds.nbytes + self.owners.nbytes)


_EMPTY = np.zeros(0, dtype=np.uint32)
# Intersect 5-gram lists only while the candidates are many; confirming a few is cheaper.
_CONFIRM_BELOW = 32


@dataclass
class CityIndex:
    """Everything /cities needs to answer without the database, for one data version."""

    version: str
    names: bytes
    starts: np.ndarray  # int64, n + 1: position of each city's newline, then len(names)
    grams: dict[int, GramTable]
    items: bytes
    item_bounds: np.ndarray  # int64, n + 1
    pop_pos: np.ndarray  # uint32: each rank's place in the population order (desc, then rank)
    population: np.ndarray  # int64
    country: np.ndarray  # uint16: the two ASCII letters of the country code
    country_ranges: dict[str, tuple[int, int]]
    lat: np.ndarray  # float64, radians
    lon: np.ndarray  # float64, radians
    word_starts: np.ndarray  # int64: positions of every newline, space and hyphen in `names`
    word_owner: np.ndarray  # uint32: the rank whose name holds each word start
    first_word: np.ndarray  # uint32, n + 1: index of each city's first word start (its newline)
    # The word starts sorted by their text, and by their text after the first letter.
    word_keys: tuple[WordKeys, WordKeys]
    name_len: np.ndarray  # int64: bytes of each folded name
    starts_list: "array[int]" = field(repr=False, default_factory=lambda: array("q"))
    item_bounds_list: "array[int]" = field(repr=False, default_factory=lambda: array("q"))

    @property
    def size(self) -> int:
        """Number of cities."""
        return len(self.starts) - 1

    def item(self, rank: int) -> bytes:
        """City `rank`'s JSON object."""
        b = self.item_bounds_list
        return self.items[b[rank] : b[rank + 1]]

    def folded(self, rank: int) -> str:
        """City `rank`'s folded name."""
        return self.names[self.starts[rank] + 1 : self.starts[rank + 1]].decode()

    @property
    def nbytes(self) -> int:
        """Approximate memory held (bytes objects and arrays)."""
        arrays = (
            self.starts,
            self.item_bounds,
            self.pop_pos,
            self.population,
            self.country,
            self.lat,
            self.lon,
            self.word_starts,
            self.word_owner,
            self.first_word,
            self.name_len,
        )
        return (
            len(self.names)
            + len(self.items)
            + sum(a.nbytes for a in arrays)
            + sum(t.nbytes for t in self.grams.values())
            + sum(w.nbytes for w in self.word_keys)
        )


@dataclass(frozen=True)
class Chunk:
    """A run of cities in rank order, each column in one buffer (as snapshot.py reads them)."""

    items: bytes  # the JSON objects, newline-separated
    folded: bytes  # the folded names (UTF-8), newline-separated
    countries: bytes  # two ASCII bytes per city (two spaces: none)
    population: np.ndarray
    lat: np.ndarray  # degrees
    lon: np.ndarray


class Builder:
    """Collects cities in rank order, a chunk at a time.

    Each chunk becomes a few large buffers at once: the hundreds of thousands
    of small strings of a table never live together, which would leave the
    process's heap fragmented (and its resident memory high) after the build.
    """

    def __init__(self) -> None:
        self._names: list[bytes] = []
        self._name_lengths: list[np.ndarray] = []
        self._items: list[bytes] = []
        self._item_lengths: list[np.ndarray] = []
        self._pop: list[np.ndarray] = []
        self._cc: list[np.ndarray] = []
        self._lat: list[np.ndarray] = []
        self._lon: list[np.ndarray] = []

    def add(self, rows: Sequence[Row]) -> None:
        """Add rows, continuing the rank order."""
        self.add_chunk(
            Chunk(
                items=b"\n".join(r[0].encode() for r in rows),
                folded=b"\n".join(r[5].encode() for r in rows),
                countries=b"".join((r[1] or "  ").encode() for r in rows),
                population=np.fromiter((r[2] or 0 for r in rows), np.int64, len(rows)),
                lat=np.fromiter((r[3] for r in rows), np.float64, len(rows)),
                lon=np.fromiter((r[4] for r in rows), np.float64, len(rows)),
            )
        )

    def add_chunk(self, chunk: "Chunk") -> None:
        """Add a run of cities given column by column, continuing the rank order."""
        n = len(chunk.population)
        if n == 0:
            return
        items_nl = np.flatnonzero(np.frombuffer(chunk.items, np.uint8) == _NL)
        names = b"\n" + chunk.folded
        names_nl = np.flatnonzero(np.frombuffer(names, np.uint8) == _NL)
        if not (len(items_nl) + 1 == len(names_nl) == n == len(chunk.countries) // 2):
            raise ValueError(f"a chunk of {n} cities holds columns of other lengths")
        self._item_lengths.append(np.diff(np.concatenate(([-1], items_nl, [len(chunk.items)]))) - 1)
        self._items.append(chunk.items.replace(b"\n", b""))  # (JSON escapes its newlines)
        self._name_lengths.append(np.diff(np.append(names_nl, len(names))))
        self._names.append(names)
        self._cc.append(np.frombuffer(chunk.countries, dtype=">u2").astype(np.uint16))
        self._pop.append(chunk.population.astype(np.int64))
        self._lat.append(chunk.lat.astype(np.float64))
        self._lon.append(chunk.lon.astype(np.float64))

    @staticmethod
    def _joined(parts: list[np.ndarray], dtype: type) -> np.ndarray:
        return np.concatenate(parts) if parts else np.zeros(0, dtype=dtype)

    def build(self, version: str) -> CityIndex:
        """The finished index (the collected rows are released)."""
        lengths = self._joined(self._name_lengths, np.int64)
        n = len(lengths)
        if n >= 1 << _OWNER_BITS:
            raise ValueError(f"{n} cities: the in-process index holds at most {1 << _OWNER_BITS}")
        names = b"".join(self._names)
        self._names = []
        starts = np.zeros(n + 1, dtype=np.int64)
        np.cumsum(lengths, out=starts[1:])
        items = b"".join(self._items)
        self._items = []
        item_bounds = np.zeros(n + 1, dtype=np.int64)
        np.cumsum(self._joined(self._item_lengths, np.int64), out=item_bounds[1:])
        population = self._joined(self._pop, np.int64)
        ranks = np.arange(n, dtype=np.int64)
        by_pop = np.lexsort((ranks, -population))
        pop_pos = np.empty(n, dtype=np.uint32)
        pop_pos[by_pop] = np.arange(n, dtype=np.uint32)
        country = self._joined(self._cc, np.uint16)
        buf = np.frombuffer(names, dtype=np.uint8)
        owner = np.repeat(np.arange(n, dtype=np.uint64), lengths)
        word_starts = np.flatnonzero(np.isin(buf, WORD_SEPARATORS)).astype(np.int64)
        word_owner = owner[word_starts].astype(np.uint32)
        word_ends = starts[word_owner.astype(np.int64) + 1]
        index = CityIndex(
            version=version,
            names=names,
            starts=starts,
            grams={k: _gram_table(buf, owner, k) for k in range(2, MAX_GRAM + 1)},
            items=items,
            item_bounds=item_bounds,
            pop_pos=pop_pos,
            population=population,
            country=country,
            country_ranges=_country_ranges(country),
            lat=np.radians(self._joined(self._lat, np.float64)),
            lon=np.radians(self._joined(self._lon, np.float64)),
            word_starts=word_starts,
            word_owner=word_owner,
            first_word=np.searchsorted(word_starts, starts).astype(np.uint32),
            word_keys=(
                word_keys(buf, word_starts + 1, word_ends, skip=0),
                word_keys(buf, word_starts + 1, word_ends, skip=1),
            ),
            name_len=lengths - 1,
            starts_list=array("q", starts.tobytes()),
            item_bounds_list=array("q", item_bounds.tobytes()),
        )
        self._pop, self._cc, self._lat, self._lon = [], [], [], []
        self._name_lengths, self._item_lengths = [], []
        return index


def _gram_table(buf: np.ndarray, owner: np.ndarray, k: int) -> GramTable:
    """Distinct k-byte grams of `buf` (none crossing into the next name) and their ranks."""
    span = len(buf) - k + 1
    if span <= 0:
        return GramTable(k, np.zeros(0, np.uint64), np.zeros(1, np.uint32), _EMPTY)
    newline = (buf == _NL).astype(np.int32)
    if k == 2:
        valid = (buf[:span] == _NL) & (buf[1 : span + 1] != _NL)
    else:
        # No newline among bytes 1..k-1 of the gram: it stays inside one name.
        inside = np.cumsum(newline)
        valid = inside[k - 1 : k - 1 + span] - inside[:span] == 0
    pos = np.flatnonzero(valid)
    key = np.zeros(len(pos), dtype=np.uint64)
    for j in range(k):
        key = (key << np.uint64(8)) | buf[pos + j].astype(np.uint64)
    packed = (key << np.uint64(_OWNER_BITS)) | owner[pos]
    del key, pos, valid
    packed.sort()  # (numpy's np.unique hashes instead: ten times slower here)
    packed = packed[firsts(packed)]
    keys = packed >> np.uint64(_OWNER_BITS)
    owners = (packed & np.uint64((1 << _OWNER_BITS) - 1)).astype(np.uint32)
    first = np.flatnonzero(firsts(keys))
    bounds = np.append(first, len(keys)).astype(np.uint32)
    return GramTable(k, keys[first].copy(), bounds, owners)


def _country_ranges(country: np.ndarray) -> dict[str, tuple[int, int]]:
    """Each country code's first and last rank (the ranks between may hold others)."""
    order = np.argsort(country, kind="stable")
    codes = country[order]
    first = np.flatnonzero(firsts(codes))
    last = np.append(first[1:], len(codes)) - 1
    out: dict[str, tuple[int, int]] = {}
    for f, la in zip(first.tolist(), last.tolist(), strict=True):
        code = int(codes[f])
        out[chr(code >> 8) + chr(code & 0xFF)] = (int(order[f]), int(order[la]))
    return out


def firsts(a: np.ndarray) -> np.ndarray:
    """Mask of the first element of each run of equal values in a sorted array."""
    mask = np.ones(len(a), dtype=bool)
    mask[1:] = a[1:] != a[:-1]
    return mask


def isin_sorted(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Mask of the elements of `a` found in the sorted array `b`."""
    if len(b) == 0:
        return np.zeros(len(a), dtype=bool)
    idx = np.minimum(np.searchsorted(b, a), len(b) - 1)
    return np.asarray(b[idx] == a)


def matches(ix: CityIndex, pattern: bytes) -> np.ndarray:
    """Sorted ranks whose newline-prefixed folded name contains `pattern` (2+ bytes)."""
    if len(pattern) <= MAX_GRAM:
        return ix.grams[len(pattern)].get(pattern)
    table = ix.grams[MAX_GRAM]
    grams = dict.fromkeys(pattern[i : i + MAX_GRAM] for i in range(len(pattern) - MAX_GRAM + 1))
    lists = sorted((table.get(g) for g in grams), key=len)
    cand = lists[0]
    for other in lists[1:]:
        if len(cand) <= _CONFIRM_BELOW:
            break
        cand = cand[isin_sorted(cand, other)]
    find, st = ix.names.find, ix.starts_list
    hits = [r for r in cand.tolist() if find(pattern, st[r], st[r + 1]) >= 0]
    return np.array(hits, dtype=np.uint32)
