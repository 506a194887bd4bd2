"""``on_terminal``: run the ``runlake`` command on a pseudo-terminal, as a person sees it.

Rich decides what to draw from whether its output is a terminal and how wide it is, so the
tests of terminal output and ``bench/terminal.py`` run the real command in its own process
with a pty of a given size, and collect everything it drew.
"""

from __future__ import annotations

import fcntl
import os
import pty
import struct
import subprocess
import sys
import termios
import time
from dataclasses import dataclass


@dataclass(frozen=True)
class Drawn:
    """What a command drew on the terminal, its exit code and how long it ran."""

    text: str
    returncode: int
    seconds: float


def on_terminal(*args: str, columns: int = 120, lines: int = 40,
                env: dict[str, str] | None = None, timeout: float = 600) -> Drawn:
    """Run ``python -m runlake ARGS`` with stdin, stdout and stderr on a new pty of
    ``columns`` x ``lines``; return what it drew (ANSI codes included)."""
    master, slave = pty.openpty()
    fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", lines, columns, 0, 0))
    environ = {key: value for key, value in os.environ.items()
               if key not in ("COLUMNS", "LINES", "NO_COLOR")}
    environ |= {"TERM": "xterm-256color", **(env or {})}
    start = time.perf_counter()
    process = subprocess.Popen([sys.executable, "-m", "runlake", *args], stdin=slave,
                               stdout=slave, stderr=slave, env=environ, close_fds=True)
    os.close(slave)
    drawn = bytearray()
    try:
        while chunk := _read(master):
            drawn += chunk
        returncode = process.wait(timeout=timeout)
    finally:
        os.close(master)
        if process.poll() is None:
            process.kill()
    text = drawn.decode(errors="replace").replace("\r\n", "\n")  # the tty turns \n into \r\n
    return Drawn(text, returncode, time.perf_counter() - start)


def _read(master: int) -> bytes:
    try:
        return os.read(master, 1 << 16)
    except OSError:  # EIO: the command closed the terminal (it exited)
        return b""
