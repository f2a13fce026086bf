"""Answering /cities from the in-process index: matching, filtering, ordering, paging.

Pure functions over a `CityIndex`; the same answers a full scan of the folded
names gives (the tests check that against MariaDB's tables). Work grows with
the answer: a pattern of up to five bytes is one ready list, a longer one the
intersection of its 5-gram lists confirmed by `bytes.find`.
"""

import math
from dataclasses import dataclass

import numpy as np

from searchapi import fuzzy
from searchapi.memindex import CityIndex, isin_sorted, matches
from searchapi.search import CityQuery, Order

EARTH_KM = 6371.0088


@dataclass(frozen=True)
class Hits:
    """One page of an answer: the exact total and the page's ranks (with extras)."""

    total: int
    ranks: list[int]
    distance_km: list[float] | None = None
    edits: list[int] | None = None
    fuzzy: bool = False


def exact_matches(ix: CityIndex, folded: str) -> np.ndarray:
    """Ranks of the cities matching `folded`: infix from 3 characters, prefix below."""
    qb = folded.encode()
    return matches(ix, b"\n" + qb if len(folded) <= 2 else qb)


def in_country(ix: CityIndex, ranks: np.ndarray, code: str) -> np.ndarray:
    """The sorted `ranks` whose country is `code` (its cities are one rank range, mostly)."""
    span = ix.country_ranges.get(code)
    if span is None:
        return ranks[:0]
    lo, hi = np.searchsorted(ranks, span[0]), np.searchsorted(ranks, span[1], side="right")
    sub = ranks[lo:hi]
    return sub[ix.country[sub] == (ord(code[0]) << 8 | ord(code[1]))]


def distances_km(ix: CityIndex, ranks: np.ndarray, near: tuple[float, float]) -> np.ndarray:
    """Great-circle distances (haversine) from `near` (degrees) to each city."""
    lat0, lon0 = math.radians(near[0]), math.radians(near[1])
    lat, lon = ix.lat[ranks], ix.lon[ranks]
    a = np.sin((lat - lat0) / 2) ** 2 + math.cos(lat0) * np.cos(lat) * np.sin((lon - lon0) / 2) ** 2
    return np.asarray(2 * EARTH_KM * np.arcsin(np.sqrt(np.minimum(a, 1.0))))


def blend(ix: CityIndex, ranks: np.ndarray, km: np.ndarray) -> np.ndarray:
    """The location-biased score (lower first): distance shrunk by the city's size.

    A city of a million people 70 km away ranks like an empty place 10 km away.
    """
    return np.asarray(km / (1.0 + np.log10(1.0 + ix.population[ranks])))


def _relevance(ix: CityIndex, folded: str, ranks: np.ndarray) -> np.ndarray:
    """0 exact, 1 prefix, 2 word prefix, 3 elsewhere in the name."""
    qb = folded.encode()
    cls = np.full(len(ranks), 3, dtype=np.int64)
    words = np.union1d(matches(ix, b" " + qb), matches(ix, b"-" + qb))
    cls[isin_sorted(ranks, words)] = 2
    prefix = isin_sorted(ranks, matches(ix, b"\n" + qb))
    cls[prefix] = 1
    cls[prefix & (ix.name_len[ranks] == len(qb))] = 0
    return cls


def _page_by_key(key: np.ndarray, start: int, stop: int) -> np.ndarray:
    """Positions of the [start, stop) smallest of the distinct integer keys, in key order."""
    if stop >= len(key) or stop * 4 > len(key):
        return np.argsort(key, kind="stable")[start:stop]
    top = np.argpartition(key, stop - 1)[:stop]
    return top[np.argsort(key[top], kind="stable")][start:stop]


def _order(
    ix: CityIndex, query: CityQuery, ranks: np.ndarray, edits: np.ndarray | None
) -> tuple[np.ndarray, np.ndarray | None]:
    """Positions in `ranks` of this page, in the asked order, and the distances if near."""
    start, stop = query.offset, query.offset + query.limit
    km = distances_km(ix, ranks, query.near) if query.near else None
    order = query.order
    if km is not None and order in (None, Order.distance):
        score = km if order is Order.distance else blend(ix, ranks, km)
        sort_keys = (ranks, score) if edits is None else (ranks, score, edits)
        return np.lexsort(sort_keys)[start:stop], km
    if order is Order.population or (edits is not None and order in (None, Order.relevance)):
        key = ix.pop_pos[ranks].astype(np.int64)
    elif order is Order.relevance:
        key = (_relevance(ix, query.folded, ranks) << 32) | ix.pop_pos[ranks]
    elif edits is None:
        return np.arange(start, min(stop, len(ranks))), km  # ranks are the default order
    else:
        key = ranks.astype(np.int64)
    if edits is not None:
        key = (edits.astype(np.int64) << 40) | key
    return _page_by_key(key, start, stop), km


def find(ix: CityIndex, query: CityQuery) -> Hits:
    """The answer to `query` (alt=false): exact, or typo-tolerant when asked or when empty."""
    exact = ranks = exact_matches(ix, query.folded)
    if query.country:
        ranks = in_country(ix, ranks, query.country)
    edits: np.ndarray | None = None
    use_fuzzy = query.fuzzy is True or (query.fuzzy is None and len(ranks) == 0)
    if use_fuzzy and fuzzy.applies(query.folded):
        # (a query long enough for typos is matched exactly as an infix: `exact` is fuzzy's)
        ranks, edits = fuzzy.fuzzy_matches(ix, query.folded, exact)
        if query.country:
            keep = np.isin(ranks, in_country(ix, np.sort(ranks), query.country))
            ranks, edits = ranks[keep], edits[keep]
    picks, km = _order(ix, query, ranks, edits)
    page = ranks[picks]
    return Hits(
        total=len(ranks),
        ranks=page.tolist(),
        distance_km=None if km is None else np.round(km[picks], 3).tolist(),
        edits=None if edits is None else edits[picks].tolist(),
        fuzzy=edits is not None,
    )
