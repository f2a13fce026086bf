"""YAML bombs, oversized and malformed compose files are refused before anything walks them."""

import resource
import time

import pytest

from controlplane.stacks.compose import parse_stack
from controlplane.stacks.problems import ComposeInvalid
from controlplane.stacks.yamlsafe import MAX_BYTES, YamlProblem, load_document

# Nine levels of nine aliases: 9**9 (~387 million) strings once expanded, 900 bytes of text.
BOMB = "\n".join(
    ['a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]']
    + [
        f"{chr(ord('a') + i)}: &{chr(ord('a') + i)} ["
        + ",".join([f"*{chr(ord('a') + i - 1)}"] * 9)
        + "]"
        for i in range(1, 9)
    ]
    + ["services: {web: {image: x, command: *i}}", "name: bomb"]
)


def test_billion_laughs_is_refused_quickly_and_small():
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    started = time.monotonic()
    with pytest.raises(ComposeInvalid) as info:
        parse_stack(BOMB)
    assert info.value.too_large
    assert "expands to more than" in info.value.problems[0].msg
    assert time.monotonic() - started < 5
    grown_kib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before
    assert grown_kib < 100 * 1024


def test_modest_anchors_and_merge_keys_still_work():
    text = (
        "x-common: &common {image: app, restart: always}\n"
        "name: s\n"
        "services:\n"
        "  a: {<<: *common}\n"
        "  b: {<<: *common, command: [run]}\n"
    )
    stack = parse_stack(text)
    assert stack.services["a"].image == stack.services["b"].image == "app"
    assert stack.services["b"].restart.name == "always"


def test_oversized_text_is_too_large():
    with pytest.raises(YamlProblem) as info:
        load_document("a: " + "x" * MAX_BYTES)
    assert info.value.too_large


def test_duplicate_keys_are_refused_with_their_line():
    with pytest.raises(YamlProblem, match=r"duplicate key 'image' at line 4"):
        load_document("services:\n  web:\n    image: a\n    image: b\n")


def test_self_referencing_alias_is_refused():
    with pytest.raises(YamlProblem):
        load_document("a: &a [*a]\n")


def test_invalid_yaml_says_where():
    with pytest.raises(ComposeInvalid) as info:
        parse_stack("services: [\n")
    assert "not valid YAML" in info.value.problems[0].msg
    assert not info.value.too_large
