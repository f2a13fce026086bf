"""Progress of a load: a rich bar on a terminal, nothing otherwise (counts go to the log)."""

import logging
import sys
from types import TracebackType
from typing import TYPE_CHECKING, Protocol

if TYPE_CHECKING:
    from rich.progress import TaskID


class Progress(Protocol):
    """Where the loader reports how far it got."""

    def phase(self, label: str, total: int | None = None) -> None:
        """A new phase starts (countries, cities, index, swap)."""

    def advance(self, rows: int) -> None:
        """`rows` more rows are done in the current phase."""


class Silent:
    """No output (not a terminal, or a library caller that does not care)."""

    def phase(self, label: str, total: int | None = None) -> None:
        """Ignore the phase."""

    def advance(self, rows: int) -> None:
        """Ignore the rows."""


class Terminal:
    """A rich progress display on stderr; use as a context manager."""

    def __init__(self) -> None:
        from rich.console import Console
        from rich.progress import (
            BarColumn,
            MofNCompleteColumn,
            SpinnerColumn,
            TextColumn,
            TimeElapsedColumn,
        )
        from rich.progress import Progress as RichProgress

        self.console = Console(stderr=True)
        self._bar = RichProgress(
            SpinnerColumn(),
            TextColumn("{task.description}"),
            BarColumn(),
            MofNCompleteColumn(),
            TimeElapsedColumn(),
            console=self.console,
            transient=False,
        )
        self._task: TaskID | None = None

    def __enter__(self) -> "Terminal":
        from rich.logging import RichHandler

        # Log lines go through the same console, above the live bars, not into them.
        logging.basicConfig(
            level=logging.INFO, format="%(message)s", handlers=[RichHandler(console=self.console)]
        )
        self._bar.start()
        return self

    def __exit__(
        self, kind: type[BaseException] | None, err: BaseException | None, tb: TracebackType | None
    ) -> None:
        self._finish()
        self._bar.stop()

    def _finish(self) -> None:
        if self._task is not None:
            task = self._bar.tasks[-1]
            self._bar.update(self._task, total=task.completed)

    def phase(self, label: str, total: int | None = None) -> None:
        """Close the previous bar and open one for `label`."""
        self._finish()
        self._task = self._bar.add_task(label, total=total)

    def advance(self, rows: int) -> None:
        """Move the current bar on."""
        if self._task is not None:
            self._bar.advance(self._task, rows)


def stderr_is_terminal() -> bool:
    """Show progress only to a person watching."""
    return sys.stderr.isatty()
