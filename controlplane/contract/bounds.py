"""Bounds on every value that reaches a database, a file or a process.

This module exists to prevent two failures: a number or string that the API
stores but the database, Docker or the kernel cannot take (an id past 2^63 raised
OverflowError, a 1e300 s health interval made the agent fail, a 2^40 s stop
timeout could never be waited out), and a string that changes meaning where it
lands (a newline in `dns_search` added a nameserver to resolv.conf, `=` in an env
key moved the boundary between key and value, a NUL cut a string short). The
control plane's API types and the agent's wire schemas both use these types, so
a bad value is a 422 naming its field at the first edge it reaches.
"""

from typing import Annotated

from pydantic import AfterValidator, Field, Strict

# Ids are 64-bit signed integers in all three databases.
MAX_ID = 2**63 - 1
# A resource id in a JSON body: an integer, never `true` or "5".
BodyId = Annotated[int, Strict(), Field(ge=1, le=MAX_ID)]
# A resource id in a path or query string (text there, so not strict).
ParamId = Annotated[int, Field(ge=1, le=MAX_ID)]

# Docker stores durations as int64 nanoseconds; a day is far past any sane check.
MAX_DURATION_S = 86_400.0
Duration = Annotated[float, Field(ge=0, le=MAX_DURATION_S, allow_inf_nan=False)]
PositiveDuration = Annotated[float, Field(gt=0, le=MAX_DURATION_S, allow_inf_nan=False)]
# How long a stop may wait before SIGKILL: an hour (deletes wait this long at most).
MAX_STOP_TIMEOUT_S = 3600
# Docker keeps counts (restart retries, health retries) in 32-bit ints.
Count = Annotated[int, Field(ge=0, le=2**31 - 1)]

MAX_LOG_TAIL = 100_000

# Sizes: a label, env value or argument is text, not a payload.
MAX_LABELS = 100
MAX_LABEL_KEY = 255
MAX_LABEL_VALUE = 4096
MAX_ENV = 1000
MAX_ENV_VALUE = 32_768
MAX_ARGS = 1000
MAX_ARG = 32_768
# Request bodies on the control plane and the agent (image uploads aside); a stack's
# compose file has its own, smaller limit inside this one.
MAX_BODY_BYTES = 2 * 1024 * 1024


def _no_nul(value: str) -> str:
    if "\x00" in value:
        raise ValueError("must not contain a NUL character")
    return value


Text = Annotated[str, AfterValidator(_no_nul)]
Arg = Annotated[str, Field(max_length=MAX_ARG), AfterValidator(_no_nul)]
Args = Annotated[list[Arg], Field(max_length=MAX_ARGS)]
LabelKey = Annotated[str, Field(min_length=1, max_length=MAX_LABEL_KEY), AfterValidator(_no_nul)]
LabelValue = Annotated[str, Field(max_length=MAX_LABEL_VALUE), AfterValidator(_no_nul)]
Labels = Annotated[dict[LabelKey, LabelValue], Field(max_length=MAX_LABELS)]
# POSIX leaves env names open but `=` ends the name and NUL ends the string.
EnvKey = Annotated[str, Field(min_length=1, max_length=255, pattern=r"^[^=\x00]+$")]
EnvValue = Annotated[str, Field(max_length=MAX_ENV_VALUE), AfterValidator(_no_nul)]
Env = Annotated[dict[EnvKey, EnvValue], Field(max_length=MAX_ENV)]

# RFC 1123 host names: dot-separated labels of letters, digits and inner hyphens.
_LABEL = r"[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?"
DNS_NAME_PATTERN = rf"^{_LABEL}(?:\.{_LABEL})*\.?$"
# The kernel's HOST_NAME_MAX is 64 bytes with the NUL.
Hostname = Annotated[str, Field(min_length=1, max_length=63, pattern=DNS_NAME_PATTERN)]
# One `search` domain of resolv.conf (glibc reads at most 6, 256 characters in all).
SearchDomain = Annotated[str, Field(min_length=1, max_length=253, pattern=DNS_NAME_PATTERN)]
SearchDomains = Annotated[list[SearchDomain], Field(max_length=6)]
# An image reference: no blanks or control characters (Docker's own limit on the name).
ImageRef = Annotated[str, Field(min_length=1, max_length=255, pattern=r"^[^\s\x00-\x1f]+$")]
# An agent token goes into an HTTP header: visible ASCII only.
HeaderToken = Annotated[str, Field(min_length=1, max_length=512, pattern=r"^[\x21-\x7e]+$")]
