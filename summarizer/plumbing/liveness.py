"""Which process is doing a piece of work, and whether it still is.

A run (or a job) records `me()` when it starts. Later, any process can ask `state(...)` of
what was recorded: a process killed with -9 never marks its work finished, but its process
id is gone (or belongs to a newer process, which the recorded start time tells apart).
Only the host that ran the work can tell; from another host the answer is "unknown".
"""

from __future__ import annotations

import contextlib
import os
import socket
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Literal

State = Literal["alive", "gone", "unknown"]


@dataclass(frozen=True)
class Owner:
    pid: int
    host: str
    start: str | None  # the kernel's start time of the process; None where unknown


def _stat(pid: int) -> list[bytes]:
    """Fields 3 on of /proc/PID/stat (Linux); empty where there is no such file."""
    try:
        with open(f"/proc/{pid}/stat", "rb") as fh:
            raw = fh.read()
    except OSError:
        return []
    # Field 2 (the command name) may hold spaces and parentheses: count from its end.
    return raw[raw.rfind(b")") + 2 :].split()


def _start_time(pid: int) -> str | None:
    """The process's start time in clock ticks since boot, which stays the same for a
    process's whole life and differs for a later process given the same id."""
    fields = _stat(pid)
    return fields[19].decode() if len(fields) > 19 else None


@lru_cache(maxsize=1)
def _host() -> str:
    return socket.gethostname()


def host_identity() -> str:
    """Where a pid means something, for leases: the host name, plus (on Linux) the boot and
    the pid namespace. Two containers may share a host name, and a pid in one says nothing
    about the other; only processes with the same identity are checked by pid."""
    parts = [_host()]
    for path, read in (
        ("/proc/sys/kernel/random/boot_id", lambda f: Path(f).read_text().strip()),
        ("/proc/self/ns/pid", os.readlink),
    ):
        with contextlib.suppress(OSError):  # not Linux: the host name alone
            parts.append(read(path))
    return "/".join(parts)


def pid_alive(pid: int) -> bool | None:
    """Whether a process of this host with this id exists; None when it cannot be told."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True  # alive, but another user's
    except OSError:
        return None
    return True


def me() -> Owner:
    pid = os.getpid()
    return Owner(pid, _host(), _start_time(pid))


def state(pid: int | None, host: str | None, start: str | None) -> State:
    if pid is None or host is None or host != _host():
        return "unknown"
    alive = pid_alive(pid)
    if alive is None:
        return "unknown"
    if not alive:
        return "gone"
    fields = _stat(pid)
    if fields and fields[0] in (b"Z", b"X"):
        return "gone"  # exited, not yet reaped by its parent
    now = fields[19].decode() if len(fields) > 19 else None
    if start is not None and now is not None and now != start:
        return "gone"  # the id was reused by a newer process
    return "alive"
