"""A tcpdump capture of UDP on one port of the test's own underlay switch (the cluster tests)."""

import os
import signal
import subprocess
import time
from pathlib import Path


class Capture:
    """tcpdump on a host's port of the underlay switch (inside the switch's namespace) into a
    file, stopped by pid.

    --immediate-mode: otherwise packets still in the kernel's capture block when
    tcpdump is stopped never reach the file (a short fetch can vanish whole)."""

    def __init__(self, switch: Path, port: str, path: Path) -> None:
        self.path = path
        tcpdump = ["tcpdump", "-i", port, "--immediate-mode", "-U", "-n", "-w", str(path), "udp"]
        self.proc = subprocess.Popen(
            ["nsenter", f"--net={switch}", *tcpdump],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
        )
        # It says "listening on ..." once the capture is set up (a loaded machine takes seconds).
        assert self.proc.stderr is not None
        assert b"listening on" in self.proc.stderr.readline()

    def stop(self) -> tuple[bytes, str]:
        """The raw capture and its one-line-per-packet text."""
        time.sleep(0.5)
        os.kill(self.proc.pid, signal.SIGINT)
        self.proc.wait(10)
        text = subprocess.run(
            ["tcpdump", "-r", str(self.path), "-n"], capture_output=True, text=True
        ).stdout
        return self.path.read_bytes(), text
