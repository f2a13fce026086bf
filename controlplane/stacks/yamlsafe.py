"""Load a compose file's YAML without letting it exhaust memory or time.

A "billion laughs" document is a few hundred bytes whose anchors expand into
billions of nodes. PyYAML shares aliased nodes, so loading alone stays small, but
everything that walks the result (schema validation, mapping) sees the expansion.
This module composes the node graph first, counts the nodes as if every alias were
expanded (memoised per node, so the count itself is cheap), and refuses a document
above the limit before anything walks it. It also refuses duplicate keys, which
PyYAML would silently resolve to the last one.
"""

from dataclasses import dataclass
from typing import Any

import yaml

MAX_BYTES = 1 << 20
MAX_NODES = 100_000


@dataclass(frozen=True)
class YamlProblem(Exception):
    """The text is not a loadable compose document; `too_large` marks size limits."""

    message: str
    too_large: bool = False

    def __str__(self) -> str:
        return self.message


def load_document(text: str | bytes) -> Any:
    """Parse one YAML document within MAX_BYTES and MAX_NODES (aliases expanded)."""
    if len(text) > MAX_BYTES:
        raise YamlProblem(f"the compose file is larger than {MAX_BYTES} bytes", too_large=True)
    try:
        node = yaml.compose(text, Loader=yaml.SafeLoader)
    except yaml.YAMLError as exc:
        raise YamlProblem(f"not valid YAML: {_one_line(exc)}") from None
    if node is None:
        raise YamlProblem("the compose file is empty")
    _check(node)
    loader = yaml.SafeLoader("")
    try:
        return loader.construct_document(node)
    except yaml.YAMLError as exc:
        raise YamlProblem(f"not valid YAML: {_one_line(exc)}") from None
    finally:
        loader.dispose()


def _check(root: yaml.Node) -> None:
    """Refuse documents that expand past MAX_NODES or repeat a mapping key."""
    sizes: dict[int, int] = {}
    # Iterative post-order walk: deep nesting must not hit Python's recursion limit.
    stack: list[tuple[yaml.Node, bool]] = [(root, False)]
    visiting: set[int] = set()
    while stack:
        node, done = stack.pop()
        key = id(node)
        if done:
            visiting.discard(key)
            sizes[key] = 1 + sum(sizes[id(c)] for c in _children(node))
            if sizes[key] > MAX_NODES:
                raise YamlProblem(
                    f"the compose file expands to more than {MAX_NODES} nodes "
                    "(anchors and aliases included)",
                    too_large=True,
                )
            continue
        if key in sizes:
            continue
        if key in visiting:
            raise YamlProblem("not valid YAML: an alias refers to itself")
        visiting.add(key)
        if isinstance(node, yaml.MappingNode):
            _no_duplicate_keys(node)
        stack.append((node, True))
        stack.extend((c, False) for c in _children(node) if id(c) not in sizes)


def _children(node: yaml.Node) -> list[yaml.Node]:
    if isinstance(node, yaml.MappingNode):
        return [n for pair in node.value for n in pair]
    if isinstance(node, yaml.SequenceNode):
        return list(node.value)
    return []


def _no_duplicate_keys(node: yaml.MappingNode) -> None:
    seen: set[str] = set()
    for key_node, _ in node.value:
        if not isinstance(key_node, yaml.ScalarNode) or key_node.tag == "tag:yaml.org,2002:merge":
            continue
        if key_node.value in seen:
            mark = key_node.start_mark
            raise YamlProblem(
                f"duplicate key {key_node.value!r} at line {mark.line + 1}, "
                f"column {mark.column + 1}"
            )
        seen.add(key_node.value)


def _one_line(exc: yaml.YAMLError) -> str:
    return " ".join(str(exc).split())
