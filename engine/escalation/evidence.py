"""Evidence files of an incident's on-site check: bytes under the attachments folder, a row each."""

from __future__ import annotations

import hashlib
import re
from pathlib import Path
from typing import Any

from engine.errors import InvalidData

_UNSAFE = re.compile(r"[\\/:*?\"<>|\x00-\x1f]")


def clean_name(filename: str, content: bytes, values: dict[str, Any]) -> str:
    """The file name to keep (no folders, no control characters); refuses empty, oversized or unlisted types."""
    name = _UNSAFE.sub("_", Path((filename or "").replace("\\", "/")).name).strip(" .")
    settings = values["escalation"]
    if not name:
        raise InvalidData("证据文件缺少文件名", {"filename": ["此项为必填项。"]})
    extension = name.rpartition(".")[2].lower() if "." in name else ""
    if extension not in settings["evidence_extensions"]:
        allowed = "、".join(settings["evidence_extensions"])
        raise InvalidData(f"不支持的证据文件类型：{name}（可上传 {allowed}）", {"filename": ["文件类型不支持。"]})
    if not content:
        raise InvalidData(f"证据文件 {name} 是空文件", {"content": ["文件为空。"]})
    if len(content) > settings["evidence_max_bytes"]:
        limit = settings["evidence_max_bytes"] // 1_000_000
        raise InvalidData(f"证据文件 {name} 超过 {limit} MB", {"content": ["文件过大。"]})
    return name[-200:]


def store(folder: Path, incident_id: int, name: str, content: bytes) -> tuple[str, str]:
    """Write the file (content-addressed, so a repeat upload rewrites the same bytes); (relative path, sha256)."""
    digest = hashlib.sha256(content).hexdigest()
    relative = Path("incidents") / str(incident_id) / f"{digest[:16]}-{name}"
    target = folder / relative
    target.parent.mkdir(parents=True, exist_ok=True)
    partial = target.with_name(target.name + ".part")
    partial.write_bytes(content)
    partial.replace(target)
    return relative.as_posix(), digest
