"""Process set-up for long-running engine processes (web server, timer worker)."""

from __future__ import annotations

import gc


def freeze_startup_objects() -> None:
    """Leave what start-up loaded out of every later full garbage collection.

    Modules, process specs, forms and word lists live as long as the process, yet every full
    collection walked them: about 70 ms with every thread stopped under load in bench/api.py, and
    0.9 ms per ticket lifecycle in bench/lifecycle.py. Frozen, a full collection walks only what work
    made since. Garbage is collected first, so none of it is kept for good.
    """
    gc.collect()
    gc.freeze()
