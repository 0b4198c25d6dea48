"""gunicorn settings for the web app: `gunicorn 'api:create_app()'` reads this file from the working folder.

One process with two threads per node: more threads only contend for the GIL, and on SQLite a
second process would make writers meet SQLite's sleeping busy handler instead of the engine's
in-process queue (PostgreSQL: add nodes, or processes, freely).
"""

from __future__ import annotations

import gc
from typing import Any

workers = 1
threads = 2


def post_worker_init(worker: Any) -> None:
    # What the app loaded at start (modules, process specs, forms, the word lists) lives as long as
    # the process, yet every full garbage collection walked it: ~70 ms with all threads stopped, a
    # few times a minute under load. Frozen, it is left out and a full collection walks only what
    # requests made (~5 ms). Garbage is collected first so that none of it is kept for good.
    gc.collect()
    gc.freeze()
