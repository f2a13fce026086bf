"""The in-process index as stored parts: read back, it is the index that was built."""

import numpy as np

from searchapi import indexparts
from searchapi.matching import find
from searchapi.memindex import Builder, CityIndex
from searchapi.search import make_query

NAMES = ["darwin", "mount darwin", "zürich", "london", "londonderry", "new york", "san josé"]


def _index() -> CityIndex:
    builder = Builder()
    builder.add(
        [
            (f'{{"name": "{n}"}}', "AU" if i % 2 else "CH", 1000 * i, 1.0 * i, -2.0 * i, n)
            for i, n in enumerate(NAMES)
        ]
    )
    return builder.build("v1")


def test_parts_read_back_are_the_same_bytes_and_answers() -> None:
    built = _index()
    parts = dict(indexparts.to_parts(built))
    back = indexparts.from_parts("v1", parts)
    assert dict(indexparts.to_parts(back)) == parts
    assert back.version == "v1" and back.size == built.size
    assert back.country_ranges == built.country_ranges
    for q, fuzzy in (("dar", None), ("lond", None), ("darwn", True), ("zurih", True)):
        query = make_query(q, fuzzy=fuzzy)
        assert find(back, query) == find(built, query)
    assert back.item(2) == built.item(2) and back.folded(3) == "london"


def test_the_arrays_read_back_are_views_not_copies() -> None:
    parts = dict(indexparts.to_parts(_index()))
    back = indexparts.from_parts("v1", parts)
    assert not back.starts.flags.writeable  # (a view of the bytes read)
    assert np.shares_memory(back.grams[3].owners, np.frombuffer(parts["grams3.owners"], np.uint8))


def test_a_manifest_of_another_layout_names_no_version() -> None:
    assert indexparts.manifest_version(indexparts.manifest("2026/5")) == "2026/5"
    assert indexparts.manifest_version(b'{"format": 0, "version": "2026/5"}') is None
    assert indexparts.manifest_version(b"not json") is None
