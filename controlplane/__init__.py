"""weft: weave Docker hosts into one container network and deploy stacks across them."""

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("weft")
except PackageNotFoundError:  # running from a source tree that is not installed
    __version__ = "0.0.0"
