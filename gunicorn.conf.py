"""gunicorn settings for the web app: `gunicorn 'api:create_app()'` reads this file from the working folder.

One process with one request thread per node (bench/api.py, 20 clients, 2 cores):

- A second thread doubles the CPU of every request under load: each SQLite row step releases the
  GIL, the other thread takes it, and the two hand it back and forth (~50 context switches per
  task list): list p99 62 ms / 2.4 ms CPU per request with 2 threads, 33 ms / 1.1 ms with one.
  The price: a long request (a Word report, an Excel export) holds up the node while it runs.
- A second process would double what reads can use (list p99 20 ms), but on SQLite its writers
  meet SQLite's sleeping busy handler instead of the engine's in-process queue (completion p99
  ~150 ms instead of ~100 ms). On PostgreSQL add processes and nodes freely.
"""

from __future__ import annotations

from typing import Any

from engine.longlived import freeze_startup_objects

workers = 1
threads = 1


def post_worker_init(worker: Any) -> None:
    freeze_startup_objects()
