"""SQLite WAL checkpoints from a thread of their own, off the writers' path.

SQLite's automatic checkpoint runs inside the commit that fills the WAL past its limit: every few
dozen commands one of them also copies the WAL into the database file and syncs it, ~10 ms with the
write lock held, and everyone queued behind it waits. A passive checkpoint from another connection
does the same work beside the writers, without blocking them, so the process's writing connection
turns the automatic one off while this thread runs.

SQLite starts the WAL file over only when a write begins with every frame already in the database.
Under steady writes the thread never gets there: commands append while it copies, and the WAL grew
without end (2.5 GB after 20,000 commands in bench/lifecycle.py, with commits slowing by half). So
after each of the thread's rounds the writer, between two commands, checkpoints the few frames
written meanwhile (`Checkpointer.catch_up`), and its next command starts the WAL over.
"""

from __future__ import annotations

import logging
import os
import sqlite3
import threading
from contextlib import closing
from urllib.parse import quote

log = logging.getLogger(__name__)
DEFAULT_SECONDS = 1.0


def interval() -> float:
    """JIESU_SQLITE_CHECKPOINT_SECONDS (0: leave checkpoints to SQLite's automatic ones)."""
    return float(os.environ.get("JIESU_SQLITE_CHECKPOINT_SECONDS", DEFAULT_SECONDS))


def checkpoint(path: str) -> tuple[int, int, int]:
    """One passive checkpoint: (busy, frames in the WAL, frames moved into the database)."""
    # mode=rw: a database file that is gone is an error here, never a new empty file.
    with closing(sqlite3.connect(f"file:{quote(path)}?mode=rw", uri=True, timeout=5)) as connection:
        return connection.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchone()


class Checkpointer:
    """Checkpoints `path` every `seconds` until stopped."""

    def __init__(self, path: str, seconds: float):
        self.path = path
        self.seconds = seconds
        self._stop = threading.Event()
        self._round_done = threading.Event()
        self._thread = threading.Thread(target=self._run, name="jiesu-checkpoint", daemon=True)

    def start(self) -> Checkpointer:
        self._thread.start()
        return self

    @property
    def running(self) -> bool:
        """False in a forked child: threads do not survive a fork."""
        return self._thread.is_alive()

    def stop(self) -> None:
        self._stop.set()
        if self._thread.is_alive() and self._thread is not threading.current_thread():
            self._thread.join()

    def round(self) -> None:
        """Checkpoint beside the writers; the writer catches up before its next command.

        Twice: the second pass moves what was written during the first, so less is left for the
        writer's own pass (3-9 ms once a round, rather than 4-13 ms, in bench/lifecycle.py).
        """
        try:
            checkpoint(self.path)
            checkpoint(self.path)
        except sqlite3.Error as exc:  # the next round tries again; the WAL only grows meanwhile
            log.warning("WAL checkpoint failed: %s", exc)
            return
        self._round_done.set()

    def catch_up(self, writer: sqlite3.Connection) -> None:
        """On the writing connection, between transactions: after a round, checkpoint what came since.

        Only the frames written during the round are left, so this is short; with every frame in the
        database, the writer's next transaction starts the WAL file over.
        """
        if not self._round_done.is_set():
            return
        self._round_done.clear()
        try:
            writer.execute("PRAGMA wal_checkpoint(PASSIVE)")
        except sqlite3.Error as exc:  # never the command's failure: the next round tries again
            log.warning("WAL catch-up checkpoint failed: %s", exc)

    def _run(self) -> None:
        while not self._stop.wait(self.seconds):
            if not os.path.exists(self.path):
                return  # the database was removed (a test's temporary folder): nothing left to do
            self.round()
