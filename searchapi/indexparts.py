"""The in-process index as named byte parts, so MariaDB can keep it beside the tables.

What this prevents: every API process rebuilding the same index from 170k (or
2M) rows at each start and each reload, seconds of CPU that compete with
serving for the GIL and the cores. The loader builds the index once, stores
these parts in `city_index_parts` (swapped in with the tables it was built
from), and a process reads them back with `np.frombuffer`: no parsing, no
sorting, no per-city Python.

`to_parts` and `from_parts` are pure and exact inverses: every array keeps its
dtype and bytes, so an index read back answers exactly as the one built.
Arrays read back are read-only views of the bytes read (nothing writes them).
"""

import json
from array import array
from collections.abc import Iterator, Mapping

import numpy as np

from searchapi.memindex import MAX_GRAM, CityIndex, GramTable
from searchapi.wordkeys import WordKeys

# Bumped whenever the layout of CityIndex changes: a process reading parts of
# another layout builds from the rows instead.
FORMAT = 1
MANIFEST = "manifest"

# The per-rank arrays, by field name, and their dtypes.
_ARRAYS: dict[str, type] = {
    "starts": np.int64,
    "item_bounds": np.int64,
    "pop_pos": np.uint32,
    "population": np.int64,
    "country": np.uint16,
    "lat": np.float64,
    "lon": np.float64,
    "word_starts": np.int64,
    "word_owner": np.uint32,
    "first_word": np.uint32,
    "name_len": np.int64,
}
_GRAM_ARRAYS: dict[str, type] = {"keys": np.uint64, "bounds": np.uint32, "owners": np.uint32}
_WORD_ARRAYS: dict[str, type] = {"keys": np.uint64, "at": np.uint32}


def manifest(version: str) -> bytes:
    """The manifest part: the layout and the data version the parts were built from."""
    return json.dumps({"format": FORMAT, "version": version}).encode()


def manifest_version(data: bytes) -> str | None:
    """The data version a manifest names, or None when its layout is not this one's."""
    try:
        got = json.loads(data)
    except ValueError:
        return None
    if not isinstance(got, dict) or got.get("format") != FORMAT:
        return None
    version = got.get("version")
    return version if isinstance(version, str) else None


def to_parts(ix: CityIndex) -> Iterator[tuple[str, bytes]]:
    """(name, bytes) of everything `ix` holds except its version (the manifest says that)."""
    yield "names", ix.names
    yield "items", ix.items
    yield "country_ranges", json.dumps(ix.country_ranges).encode()
    for name in _ARRAYS:
        yield name, getattr(ix, name).tobytes()
    for k, table in ix.grams.items():
        for name in _GRAM_ARRAYS:
            yield f"grams{k}.{name}", getattr(table, name).tobytes()
    for i, keys in enumerate(ix.word_keys):
        for name in _WORD_ARRAYS:
            yield f"word_keys{i}.{name}", getattr(keys, name).tobytes()


def from_parts(version: str, parts: Mapping[str, bytes]) -> CityIndex:
    """The index `to_parts` gave these parts for (KeyError: a part is missing)."""

    def arr(name: str, dtype: type) -> np.ndarray:
        return np.frombuffer(parts[name], dtype=dtype)

    ranges = {code: (lo, hi) for code, (lo, hi) in json.loads(parts["country_ranges"]).items()}
    return CityIndex(
        version=version,
        names=parts["names"],
        starts=arr("starts", np.int64),
        grams={
            k: GramTable(k, *(arr(f"grams{k}.{n}", t) for n, t in _GRAM_ARRAYS.items()))
            for k in range(2, MAX_GRAM + 1)
        },
        items=parts["items"],
        item_bounds=arr("item_bounds", np.int64),
        pop_pos=arr("pop_pos", np.uint32),
        population=arr("population", np.int64),
        country=arr("country", np.uint16),
        country_ranges=ranges,
        lat=arr("lat", np.float64),
        lon=arr("lon", np.float64),
        word_starts=arr("word_starts", np.int64),
        word_owner=arr("word_owner", np.uint32),
        first_word=arr("first_word", np.uint32),
        word_keys=(
            WordKeys(*(arr(f"word_keys0.{n}", t) for n, t in _WORD_ARRAYS.items())),
            WordKeys(*(arr(f"word_keys1.{n}", t) for n, t in _WORD_ARRAYS.items())),
        ),
        name_len=arr("name_len", np.int64),
        starts_list=array("q", parts["starts"]),
        item_bounds_list=array("q", parts["item_bounds"]),
    )
