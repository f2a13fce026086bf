"""Compose variable interpolation: `${VAR}`, `$VAR`, defaults, required values, `$$`.

The control plane has no shell environment of the user's, so the values come with
the request (`variables`); a variable that is used but neither given nor defaulted
is an error at the path that uses it, never an empty string slipped in.
"""

import re
from collections.abc import Mapping
from typing import Any

from controlplane.stacks.problems import Collector, Loc

_TOKEN = re.compile(
    r"\$(?:(?P<escaped>\$)"
    r"|(?P<plain>[A-Za-z_][A-Za-z0-9_]*)"
    r"|\{(?P<braced>[A-Za-z_][A-Za-z0-9_]*)(?:(?P<op>:?[-?+])(?P<arg>[^}]*))?\}"
    r"|(?P<bad>))"
)


def interpolate(document: Any, variables: Mapping[str, str], problems: Collector) -> Any:
    """A copy of document with every string value interpolated (keys stay as they are)."""
    return _walk(document, (), variables, problems)


def _walk(value: Any, loc: Loc, variables: Mapping[str, str], problems: Collector) -> Any:
    if isinstance(value, str):
        return _string(value, loc, variables, problems)
    if isinstance(value, dict):
        return {k: _walk(v, (*loc, str(k)), variables, problems) for k, v in value.items()}
    if isinstance(value, list):
        return [_walk(v, (*loc, i), variables, problems) for i, v in enumerate(value)]
    return value


def _string(text: str, loc: Loc, variables: Mapping[str, str], problems: Collector) -> str:
    if "$" not in text:
        return text

    def replace(m: re.Match[str]) -> str:
        if m.group("escaped"):
            return "$"
        if m.group("plain"):
            name = m.group("plain")
            if name in variables:
                return variables[name]
            problems.add(loc, f"variable {name} is not set (pass it in `variables`)")
            return ""
        name = m.group("braced")
        if name is None:
            problems.add(loc, "invalid interpolation: use $$ for a literal $")
            return ""
        op, arg = m.group("op"), m.group("arg") or ""
        value = variables.get(name)
        unset = value is None or (op is not None and op.startswith(":") and value == "")
        if op in ("-", ":-"):
            return arg if unset else str(value)
        if op in ("+", ":+"):
            return "" if unset else arg
        if unset:
            why = arg if op in ("?", ":?") and arg else f"variable {name} is not set"
            problems.add(loc, f"{why} (pass it in `variables`)")
            return ""
        return str(value)

    return _TOKEN.sub(replace, text)
