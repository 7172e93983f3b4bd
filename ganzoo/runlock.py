"""One writer per run directory: an OS-level lock that dies with the process that holds it.

``ganzoo train`` (new runs and ``--resume``) holds an exclusive ``flock`` on ``RUN_DIR/.lock`` for as
long as it trains.  The kernel drops the lock when the process exits in any way (crash, ``kill -9``,
power loss), so a stale lock file never blocks a later run; a second writer gets a :class:`RunLockedError`
naming the directory and the process that holds it.
"""

from __future__ import annotations

import errno
import os
from pathlib import Path
from typing import IO

LOCK_FILE = ".lock"


class RunLockedError(RuntimeError):
    """Another process is writing into the run directory."""


class RunDirError(RuntimeError):
    """The run directory cannot be created or written (a file in the way, read-only or full disk)."""


class RunLock:
    """An exclusive, non-blocking lock on one run directory (``with RunLock(path):`` or acquire/release)."""

    def __init__(self, run_dir: str | Path) -> None:
        self.run_dir = Path(run_dir)
        self.path = self.run_dir / LOCK_FILE
        self._handle: IO[str] | None = None
        self._created = False

    @property
    def held(self) -> bool:
        """True while this object holds the lock."""
        return self._handle is not None

    def acquire(self) -> RunLock:
        """Take the lock (creating the directory) or raise :class:`RunLockedError` / :class:`RunDirError`."""
        import fcntl

        if self._handle is not None:
            return self
        handle = self._open()
        try:
            fcntl.flock(handle.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError as exc:
            handle.seek(0)
            holder = handle.read().strip()
            handle.close()
            if exc.errno in (errno.EAGAIN, errno.EACCES, errno.EWOULDBLOCK):
                who = f" (process {holder})" if holder.isdigit() else ""
                raise RunLockedError(
                    f"{self.run_dir} is in use by another ganzoo process{who}; wait for it to finish, stop it, "
                    "or choose another --out"
                ) from None
            raise RunDirError(f"cannot lock run directory {self.run_dir}: {exc.strerror}") from None
        try:
            handle.seek(0)
            handle.truncate()
            handle.write(str(os.getpid()))
            handle.flush()
        except OSError as exc:  # a full disk: the lock is still held, the pid is only for messages
            if exc.errno != errno.ENOSPC:
                handle.close()
                raise RunDirError(f"cannot write into run directory {self.run_dir}: {exc.strerror}") from None
        self._handle = handle
        self._check_writable()
        return self

    def _check_writable(self) -> None:
        """Fail now, not after building the dataset and networks, when files cannot be created here."""
        import tempfile

        try:
            with tempfile.TemporaryFile(dir=self.run_dir):
                pass
        except OSError as exc:
            self.release()
            raise RunDirError(f"cannot write into run directory {self.run_dir}: {exc.strerror or exc}") from None

    def _open(self) -> IO[str]:
        try:
            if self.run_dir.exists() and not self.run_dir.is_dir():
                raise RunDirError(f"{self.run_dir} is a file, not a run directory; choose another --out")
            self._created = not self.run_dir.exists()
            self.run_dir.mkdir(parents=True, exist_ok=True)
            return open(self.path, "a+", encoding="utf-8")
        except OSError as exc:
            raise RunDirError(f"cannot write into run directory {self.run_dir}: {exc.strerror or exc}"
            ) from None

    def release(self) -> None:
        """Drop the lock (closing the file releases it; the file itself stays, it is harmless).

        A directory this lock created and nothing else wrote into (a start that failed early) is removed."""
        if self._handle is not None:
            self._remove_if_unused()
            self._handle.close()
            self._handle = None

    def _remove_if_unused(self) -> None:
        try:
            if self._created and [p.name for p in self.run_dir.iterdir()] == [LOCK_FILE]:
                self.path.unlink()
                self.run_dir.rmdir()
        except OSError:
            pass

    def __enter__(self) -> RunLock:
        return self.acquire()

    def __exit__(self, *exc: object) -> None:
        self.release()
