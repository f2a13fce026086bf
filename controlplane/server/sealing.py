"""Agent tokens sealed at rest: what the database holds cannot call an agent.

Exists because an agent token is a host's credential: a copy of the database
(a backup, a replica, a MariaDB account with SELECT) must not hand it out. The
tokens are encrypted with Fernet (AES-128-CBC + HMAC-SHA256) under a key kept in
a file of its own, mode 0600, next to the admin token in the state directory;
`seal` is done once, when a token comes in through the API, and `open` only when
a client of the agent is made.
"""

import os
from pathlib import Path

from cryptography.fernet import Fernet, InvalidToken

PREFIX = "fernet:"


class SealError(Exception):
    """A stored token that this control plane's key cannot open."""


class TokenBox:
    """Seals and opens agent tokens with one key."""

    def __init__(self, key: bytes) -> None:
        self._fernet = Fernet(key)

    def seal(self, token: str) -> str:
        """The token encrypted, as stored in the database."""
        return PREFIX + self._fernet.encrypt(token.encode()).decode()

    def open(self, sealed: str) -> str:
        """The token `seal` was given; SealError if the key does not fit."""
        if not is_sealed(sealed):
            raise SealError("the stored agent token is not sealed")
        try:
            return self._fernet.decrypt(sealed[len(PREFIX) :].encode()).decode()
        except InvalidToken:
            raise SealError("the stored agent token was sealed with another key") from None


def is_sealed(value: str) -> bool:
    """Whether value is a sealed token (plaintext ones come from databases before 0002)."""
    return value.startswith(PREFIX)


def load_box(path: Path) -> TokenBox:
    """The box whose key is in path; a new key is written there (0600) on first use."""
    if not path.exists():
        _write_new_key(path)
    os.chmod(path, 0o600)
    return TokenBox(path.read_bytes().strip())


def _write_new_key(path: Path) -> None:
    path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{os.getpid()}")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    try:
        os.write(fd, Fernet.generate_key() + b"\n")
        os.fsync(fd)
    finally:
        os.close(fd)
    # link() publishes the whole key at once and fails if another server was first:
    # two servers starting on one state dir must not seal with two keys.
    try:
        os.link(tmp, path)
    except FileExistsError:
        pass
    finally:
        tmp.unlink()
