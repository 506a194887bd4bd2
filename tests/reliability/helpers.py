"""Helpers of the reliability tests: stopping a real writer between two of its system calls
(a breakpoint in a thread, or strace in another process), and logging the file-system calls
of a real process (an LD_PRELOAD shim, or strace) to check their order."""

from __future__ import annotations

import functools
import os
import re
import shutil
import subprocess
import sys
import threading
from collections.abc import Callable
from pathlib import Path
from types import FrameType
from typing import Any

import pytest

APPEND_CODE = f"{os.sep}runlake{os.sep}append{os.sep}"


class Breakpoint:
    """Stops the thread it is installed in at its first call of the builtin ``function`` made
    from runlake's append code (``os.fstat``, ``os.write``), until :meth:`release`.

    Nothing is replaced: the real writer runs, and is held like a debugger would hold it.
    """

    def __init__(self, function: Callable[..., Any]) -> None:
        self.function = function
        self.hit = threading.Event()
        self._go = threading.Event()

    def install(self) -> None:
        sys.setprofile(self._hook)

    def _hook(self, frame: FrameType, event: str, arg: object) -> None:
        if (event == "c_call" and arg is self.function and not self.hit.is_set()
                and APPEND_CODE in frame.f_code.co_filename):
            sys.setprofile(None)
            self.hit.set()
            self._go.wait(60)

    def release(self) -> None:
        self._go.set()


def run_stopped(breakpoint: Breakpoint, work: Callable[[], object]) -> tuple[threading.Thread,
                                                                             list[object]]:
    """Start ``work`` on a thread under ``breakpoint``; return once it is stopped there."""
    done: list[object] = []

    def target() -> None:
        breakpoint.install()
        done.append(work())

    thread = threading.Thread(target=target)
    thread.start()
    assert breakpoint.hit.wait(60), "the writer never reached the breakpoint"
    return thread, done


@functools.cache
def strace_usable() -> bool:
    """strace is installed and may trace a child (ptrace can be refused in containers)."""
    if shutil.which("strace") is None:
        return False
    probe = subprocess.run(["strace", "-f", "-qq", "-o", os.devnull, "true"],
                           capture_output=True, check=False, timeout=60)
    return probe.returncode == 0


def need_strace() -> None:
    if not strace_usable():
        pytest.skip("strace is missing or ptrace is not allowed here")


SHIM = r"""
#define _GNU_SOURCE
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

static int log_fd = -1;

__attribute__((constructor)) static void open_log(void) {
    const char *path = getenv("RUNLAKE_SYSCALL_LOG");
    if (path) log_fd = open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0644);
}

static void note(const char *call, const char *path) {
    if (log_fd < 0) return;
    char line[4200];
    int saved = errno;
    int n = snprintf(line, sizeof line, "%s %s\n", call, path ? path : "");
    if (n > (int)sizeof line) n = sizeof line;
    if (write(log_fd, line, n) < 0) {}
    errno = saved;
}

static void note_fd(const char *call, int fd) {
    char link[64], path[4096];
    snprintf(link, sizeof link, "/proc/self/fd/%d", fd);
    ssize_t n = readlink(link, path, sizeof path - 1);
    path[n < 0 ? 0 : n] = 0;
    note(call, path);
}

#define REAL(name) static __typeof__(name) *real; if (!real) real = dlsym(RTLD_NEXT, #name)

int fsync(int fd) { REAL(fsync); int r = real(fd); note_fd("fsync", fd); return r; }
int fdatasync(int fd) { REAL(fdatasync); int r = real(fd); note_fd("fsync", fd); return r; }
int rename(const char *a, const char *b) {
    REAL(rename); int r = real(a, b); note("rename", b); return r; }
int renameat(int da, const char *a, int db, const char *b) {
    REAL(renameat); int r = real(da, a, db, b); note("rename", b); return r; }
int renameat2(int da, const char *a, int db, const char *b, unsigned f) {
    REAL(renameat2); int r = real(da, a, db, b, f); note("rename", b); return r; }
int link(const char *a, const char *b) {
    REAL(link); int r = real(a, b); note("link", b); return r; }
int linkat(int da, const char *a, int db, const char *b, int f) {
    REAL(linkat); int r = real(da, a, db, b, f); note("link", b); return r; }
int unlink(const char *p) { REAL(unlink); int r = real(p); note("unlink", p); return r; }
int unlinkat(int d, const char *p, int f) {
    REAL(unlinkat); int r = real(d, p, f); note("unlink", p); return r; }
"""

Event = tuple[str, str]  # (fsync | rename | link | unlink, path)


def build_shim(directory: Path) -> Path | None:
    """Compile the logging shim into ``directory``; ``None`` without a C compiler."""
    compiler = shutil.which("cc") or shutil.which("gcc")
    if compiler is None:
        return None
    (directory / "trace.c").write_text(SHIM)
    library = directory / "libtrace.so"
    subprocess.run([compiler, "-shared", "-fPIC", "-o", str(library),
                    str(directory / "trace.c"), "-ldl"], check=True)
    return library


def traced(tracer: str, code: str, args: list[str], log: Path, shim: Path | None,
           ) -> list[Event]:
    """Run ``code`` in a fresh interpreter under ``tracer`` ("shim" or "strace"); return its
    file-system calls, in order, as (call, path)."""
    command = [sys.executable, "-c", code, *args]
    env = dict(os.environ)
    if tracer == "shim":
        if shim is None:
            pytest.skip("no C compiler to build the tracing shim")
        env |= {"LD_PRELOAD": str(shim), "RUNLAKE_SYSCALL_LOG": str(log)}
    else:
        need_strace()
        command = ["strace", "-f", "-y", "-qq", "-o", str(log), "-e",
                   "trace=fsync,fdatasync,rename,renameat,renameat2,link,linkat,unlink,unlinkat",
                   *command]
    result = subprocess.run(command, capture_output=True, text=True, env=env, timeout=300,
                            check=False)
    assert result.returncode == 0, result.stderr
    lines = log.read_text(errors="replace").splitlines()
    return [e for line in lines if (e := (_shim_event(line) if tracer == "shim"
                                          else _strace_event(line))) is not None]


def _shim_event(line: str) -> Event | None:
    call, _, path = line.partition(" ")
    return call, path


_STRACE_NAMES = {"fsync": "fsync", "fdatasync": "fsync", "rename": "rename",
                 "renameat": "rename", "renameat2": "rename", "link": "link", "linkat": "link",
                 "unlink": "unlink", "unlinkat": "unlink"}


def _strace_event(line: str) -> Event | None:
    """``123 fsync(5</a/b>) = 0`` -> ("fsync", "/a/b"); ``linkat(AT_FDCWD, "x", AT_FDCWD, "y",
    0)`` -> ("link", "y"): the path the call leaves behind."""
    body = re.sub(r"^\d+\s+", "", line)  # strace -f starts a line with the pid, padded
    name, _, rest = body.partition("(")
    call = _STRACE_NAMES.get(name)
    if call is None:
        return None
    if call == "fsync":
        start, end = rest.find("<"), rest.find(">")
        return call, rest[start + 1:end]
    quoted = rest.split('"')[1::2]
    return (call, quoted[-1]) if quoted else None


def phases(events: list[Event], root: Path) -> dict[str, list[Event]]:
    """Split ``events`` at the markers (``unlink <root>/MARK-<name>``) into named phases,
    with paths relative to ``root`` ("." for root itself)."""
    found: dict[str, list[Event]] = {"start": []}
    current = "start"
    prefix = str(root)
    for call, path in events:
        if call == "unlink" and Path(path).name.startswith("MARK-"):
            current = Path(path).name.removeprefix("MARK-")
            found[current] = []
        elif path == prefix or path.startswith(prefix + os.sep):
            found[current].append((call, os.path.relpath(path, prefix)))
    return found
