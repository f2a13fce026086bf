"""nftables through libnftables (Debian's libnftables1), loaded with ctypes.

One call is one `nft -f` buffer, which the kernel applies as one transaction: a
table replaced by it is never seen half-built. Errors become `DriverError` here,
and only here; a host without the library is `Unavailable`, which callers treat
as "no fast path" rather than as a failure of the overlay.
"""

import ctypes
import ctypes.util
import functools
import json
from typing import Any

from controlplane.agent.errors import DriverError

_SONAME = "libnftables.so.1"


class Unavailable(DriverError):
    """This host has no libnftables."""


@functools.cache
def _library() -> ctypes.CDLL:
    try:
        lib = ctypes.CDLL(ctypes.util.find_library("nftables") or _SONAME)
    except OSError as exc:
        raise Unavailable(f"{_SONAME} is not installed (Debian: libnftables1)") from exc
    lib.nft_ctx_new.restype = ctypes.c_void_p
    lib.nft_ctx_new.argtypes = [ctypes.c_uint32]
    lib.nft_ctx_free.argtypes = [ctypes.c_void_p]
    lib.nft_ctx_buffer_output.argtypes = [ctypes.c_void_p]
    lib.nft_ctx_buffer_error.argtypes = [ctypes.c_void_p]
    lib.nft_ctx_output_set_flags.argtypes = [ctypes.c_void_p, ctypes.c_uint]
    lib.nft_ctx_get_output_buffer.restype = ctypes.c_char_p
    lib.nft_ctx_get_output_buffer.argtypes = [ctypes.c_void_p]
    lib.nft_ctx_get_error_buffer.restype = ctypes.c_char_p
    lib.nft_ctx_get_error_buffer.argtypes = [ctypes.c_void_p]
    lib.nft_run_cmd_from_buffer.argtypes = [ctypes.c_void_p, ctypes.c_char_p]
    return lib


def available() -> bool:
    """Whether this host can program nftables from the agent."""
    try:
        _library()
    except Unavailable:
        return False
    return True


_OUTPUT_JSON = 1 << 4  # NFT_CTX_OUTPUT_JSON


def run(commands: str, *, as_json: bool = False) -> str:
    """Run an nft buffer (several commands, one transaction); its output."""
    lib = _library()
    ctx = lib.nft_ctx_new(0)
    if not ctx:
        raise DriverError("nftables: could not create a context")
    try:
        lib.nft_ctx_buffer_output(ctx)
        lib.nft_ctx_buffer_error(ctx)
        if as_json:
            lib.nft_ctx_output_set_flags(ctx, _OUTPUT_JSON)
        rc = lib.nft_run_cmd_from_buffer(ctx, commands.encode())
        out = (lib.nft_ctx_get_output_buffer(ctx) or b"").decode()
        err = (lib.nft_ctx_get_error_buffer(ctx) or b"").decode().strip()
    finally:
        lib.nft_ctx_free(ctx)
    if rc != 0:
        raise DriverError(f"nftables: {err or 'failed'}")
    return out


def objects(commands: str) -> list[dict[str, Any]]:
    """A `list ...` command's objects, from its JSON output."""
    out = run(commands, as_json=True)
    return list(json.loads(out).get("nftables", [])) if out.strip() else []
