"""Write-then-rename, so a reader or a killed run never sees half a file.

The file gets the mode any other tool would give it: 0666 less the umask for a new file
(0644 under the usual 022), or the mode of the file it replaces. `tempfile.mkstemp` is not
used for the temporary file because it always creates 0600, and the rename would carry
that mode to the output (a daily HTML page a web server could then not read).
"""

from __future__ import annotations

import contextlib
import os
import secrets
import stat
from pathlib import Path


def _create_temp(directory: Path, name: str) -> tuple[int, Path]:
    # O_EXCL with a random name does what mkstemp does, but with mode 0666, so the kernel
    # applies the process's umask exactly as it does for `open(path, "w")`.
    flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_CLOEXEC", 0)
    for _ in range(100):
        tmp = directory / f".{name}.{secrets.token_hex(6)}.tmp"
        try:
            return os.open(tmp, flags, 0o666), tmp
        except FileExistsError:
            continue
    raise FileExistsError(f"{directory}: cannot create a temporary file for {name}")


def write_text(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = _create_temp(path.parent, path.name)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            with contextlib.suppress(FileNotFoundError):
                # Replacing a file keeps its permissions, as writing over it in place would.
                os.fchmod(fh.fileno(), stat.S_IMODE(os.stat(path).st_mode))
            fh.write(text)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)
        raise
