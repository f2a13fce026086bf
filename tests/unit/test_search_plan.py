"""Pure parts of the search API: query validation, gram planning, escaping, rendering."""

import json

import pytest
from hypothesis import given
from hypothesis import strategies as st

from searchapi.errors import InvalidParameter
from searchapi.fold import fold
from searchapi.index import (
    ALT_PREFIX,
    ALT_TRIGRAM,
    NAME_4GRAM,
    NAME_5GRAM,
    NAME_PREFIX,
    NAME_TRIGRAM,
    alt_names,
    prefixes,
    trigrams,
)
from searchapi.page import render_page
from searchapi.render import cities_geojson
from searchapi.search import GramPlan, Order, like_pattern, make_query, plan_grams, rarest
from searchapi.service import Page


def test_query_is_trimmed_normalised_and_folded() -> None:
    q = make_query("  Sa\u0303o Paulo ")  # decomposed tilde
    assert q.q == "São Paulo"
    assert q.folded == "sao paulo"
    assert make_query("DARWIN").folded == "darwin"


@pytest.mark.parametrize("raw", ["   ", "\u0301", "x" * 101])
def test_unusable_q_is_rejected_naming_q(raw: str) -> None:
    with pytest.raises(InvalidParameter) as err:
        make_query(raw)
    assert err.value.loc == ("query", "q")


def test_short_queries_use_prefix_grams() -> None:
    plan = plan_grams(make_query("Ab"))
    assert plan == GramPlan((NAME_PREFIX,), (b"ab",), exact=True)
    assert plan_grams(make_query("a", alt=True)).kinds == (NAME_PREFIX, ALT_PREFIX)


def test_three_to_five_characters_are_one_exact_gram_longer_need_confirming() -> None:
    assert plan_grams(make_query("dar")) == GramPlan((NAME_TRIGRAM,), (b"dar",), exact=True)
    assert plan_grams(make_query("darw")) == GramPlan((NAME_4GRAM,), (b"darw",), exact=True)
    assert plan_grams(make_query("DARWI")) == GramPlan((NAME_5GRAM,), (b"darwi",), exact=True)
    plan = plan_grams(make_query("darwin"))
    assert plan == GramPlan((NAME_5GRAM,), (b"darwi", b"arwin"), exact=False)
    plan = plan_grams(make_query("darwin", alt=True))
    assert plan.kinds == (NAME_TRIGRAM, ALT_TRIGRAM)
    assert plan.grams == (b"dar", b"arw", b"rwi", b"win")
    assert not plan.exact
    assert not plan_grams(make_query("aaaaaa")).exact  # one distinct gram, but 6 characters


def test_rarest_reads_both_lists_of_the_rarest_gram_and_none_when_one_is_missing() -> None:
    plan = plan_grams(make_query("darwin", alt=True))
    found = {g: [(i, 100)] for i, g in enumerate(plan.grams)}
    found[b"rwi"] = [(7, 3), (8, 4)]
    assert rarest(plan, found) == [7, 8]
    del found[b"win"]
    assert rarest(plan, found) is None


@given(st.text(min_size=1, max_size=20))
def test_like_pattern_escapes_wildcards(text: str) -> None:
    pattern = like_pattern(text)
    body = pattern[1:-1]
    unescaped, i = [], 0
    while i < len(body):
        if body[i] == "\\":
            assert body[i + 1] in "\\%_"
            i += 1
        else:
            assert body[i] not in "%_"
        unescaped.append(body[i])
        i += 1
    assert "".join(unescaped) == text


@given(st.text(max_size=30))
def test_substring_iff_all_trigrams_present(name: str) -> None:
    folded = fold(name)
    for i in range(len(folded) - 2):
        for j in range(i + 3, len(folded) + 1):
            assert trigrams(folded[i:j]) <= trigrams(folded)


def test_index_name_helpers() -> None:
    assert prefixes("zurich") == {"z", "zu"}
    assert prefixes("") == set()
    assert alt_names("Zürich", "Zurich,ZÜRICH,Zurigo,,") == ["zurich", "zurigo"]


def test_page_escapes_the_term_and_the_cells() -> None:
    evil = '<script>alert("x")</script>'
    item = {
        "country": "<b>Land</b>",
        "country_code": "XX",
        "name": evil,
        "latitude": 1.5,
        "longitude": -2.25,
    }
    html = render_page(evil, Page(1, [item], False), "1 city")
    assert "<script>" not in html and "<b>" not in html
    assert "&lt;script&gt;" in html and "&quot;x&quot;" in html
    assert "<td>1.50000</td><td>-2.25000</td>" in html
    assert 'value="Go!"' in html and "<h3>Cities Search</h3>" in html


def test_geojson_is_a_feature_collection_of_points() -> None:
    item = {"geonameid": 1, "name": "A", "latitude": -12.5, "longitude": 130.8}
    body = json.loads(bytes(cities_geojson(make_query("a"), [item], 1, False).body))
    assert body["type"] == "FeatureCollection"
    (feature,) = body["features"]
    assert feature["geometry"] == {"type": "Point", "coordinates": [130.8, -12.5]}
    assert feature["properties"]["name"] == "A"


def test_orders() -> None:
    assert [o.value for o in Order] == ["country", "population", "relevance", "distance"]
