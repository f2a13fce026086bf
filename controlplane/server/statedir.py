"""The state directory's permissions: no local user but the server's may read it.

Exists to prevent a local path to root: the database holds every host's agent
credential (sealed, see `sealing`), and the directory holds the admin token and
the key that opens those credentials. The directory is 0700 and the SQLite
files 0600, whatever the umask and whatever an older version left behind.
"""

import os
from pathlib import Path

DIR_MODE = 0o700
FILE_MODE = 0o600
SQLITE_COMPANIONS = ("", "-wal", "-shm", "-journal")


def secure_dir(path: Path) -> None:
    """Create path (and parents) if missing and make it 0700."""
    path.mkdir(mode=DIR_MODE, parents=True, exist_ok=True)
    os.chmod(path, DIR_MODE)


def secure_sqlite(db_file: Path) -> None:
    """Create the SQLite file 0600 before SQLite does, and tighten its companions.

    SQLite creates its -wal and -shm files with the database file's mode, so a
    0600 database keeps them 0600 too; existing ones are fixed here anyway.
    """
    secure_dir(db_file.parent)
    fd = os.open(db_file, os.O_RDWR | os.O_CREAT, FILE_MODE)
    os.close(fd)
    for suffix in SQLITE_COMPANIONS:
        companion = db_file.with_name(db_file.name + suffix)
        if companion.exists():
            os.chmod(companion, FILE_MODE)


def sqlite_file(db_url: str) -> Path | None:
    """The file an SQLite URL names (None for other databases and :memory:)."""
    if not db_url.startswith("sqlite"):
        return None
    _, sep, path = db_url.partition(":///")
    if not sep or not path or path == ":memory:":
        return None
    return Path(path)


def secure_state(state_dir: Path, db_url: str) -> None:
    """Make the state dir 0700 and an SQLite database in it 0600."""
    secure_dir(state_dir)
    db_file = sqlite_file(db_url)
    if db_file is not None:
        secure_sqlite(db_file)
