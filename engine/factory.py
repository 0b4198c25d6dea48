"""Builds the engine every entry point uses, from the environment."""

from __future__ import annotations

import os
from pathlib import Path

from engine.db import Database
from engine.service import Engine


def workflows_dir() -> Path:
    """JIESU_WORKFLOWS_DIR, else the workflows/ folder of this checkout."""
    configured = os.environ.get("JIESU_WORKFLOWS_DIR")
    return Path(configured) if configured else Path(__file__).resolve().parent.parent / "workflows"


def attachments_dir() -> Path:
    """JIESU_ATTACHMENTS_DIR, else attachments/ in the instance folder: files staff upload as evidence."""
    configured = os.environ.get("JIESU_ATTACHMENTS_DIR")
    return Path(configured) if configured else Path(os.environ.get("JIESU_INSTANCE_DIR", "instance")) / "attachments"


def open_engine(url: str | None = None) -> Engine:
    return Engine(Database(url))
