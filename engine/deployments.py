"""Deploying BPMN files: validate, version, store with their forms; same content twice is a no-op."""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from datetime import datetime
from threading import Lock

from sqlalchemy import Connection, bindparam, func, insert, select

from engine.audit import AuditEntry
from engine.bpmn import ParsedProcess, parse_process
from engine.errors import NotFound
from engine.models import Deployment
from engine.prepared import Prepared
from forms import FormDefinition, FormRegistry


@dataclass(frozen=True)
class DeployResult:
    deployment_id: int
    process_id: str
    version: int
    created: bool


@dataclass
class LoadedDeployment:
    """A stored deployment parsed back: the spec and the forms exactly as deployed."""

    id: int
    process: ParsedProcess
    forms: dict[str, FormDefinition]


def content_hash(xml: bytes, forms: dict[str, str]) -> str:
    digest = hashlib.sha256(xml)
    digest.update(json.dumps(forms, sort_keys=True, ensure_ascii=False).encode("utf-8"))
    return digest.hexdigest()


def deploy(conn: Connection, xml: bytes, filename: str, forms: FormRegistry, actor: str,
           now: datetime) -> tuple[DeployResult, list[AuditEntry]]:
    """Store a new version unless this exact content is already deployed."""
    parsed = parse_process(xml, filename, forms)
    form_sources = {key: forms.source(key) for key in sorted(parsed.form_keys)}
    digest = content_hash(xml, form_sources)
    existing = conn.execute(select(Deployment.id, Deployment.version).where(
        Deployment.process_id == parsed.process_id, Deployment.content_hash == digest)).first()
    if existing is not None:
        return DeployResult(existing.id, parsed.process_id, existing.version, False), []
    latest = conn.scalar(select(func.max(Deployment.version)).where(Deployment.process_id == parsed.process_id))
    version = (latest or 0) + 1
    deployment_id = conn.scalar(insert(Deployment).values(
        process_id=parsed.process_id, version=version, content_hash=digest, filename=filename,
        bpmn_xml=xml.decode("utf-8"), forms=form_sources, elements=parsed.elements, deployed_at=now,
        deployed_by=actor).returning(Deployment.id))
    audit = AuditEntry("deployment.created", actor, data={
        "process_id": parsed.process_id, "version": version, "content_hash": digest, "filename": filename})
    return DeployResult(deployment_id, parsed.process_id, version, True), [audit]


_LATEST = Prepared(select(Deployment.id).where(Deployment.process_id == bindparam("b_process"))
                   .order_by(Deployment.version.desc()).limit(1))


def latest_deployment_id(conn: Connection, process_id: str) -> int:
    found = _LATEST.scalar(conn, {"b_process": process_id})
    if found is None:
        raise NotFound(f"流程 {process_id} 尚未部署，请先运行 jiesu init 或 jiesu deploy")
    return found


class DeploymentCache:
    """Parsed deployments by id; deployments never change, so entries never go stale."""

    def __init__(self) -> None:
        self._items: dict[int, LoadedDeployment] = {}
        self._lock = Lock()

    def get(self, conn: Connection, deployment_id: int) -> LoadedDeployment:
        item = self._items.get(deployment_id)
        if item is None:
            item = _load(conn, deployment_id)
            with self._lock:
                self._items[deployment_id] = item
        return item


def _load(conn: Connection, deployment_id: int) -> LoadedDeployment:
    row = conn.execute(select(Deployment.__table__).where(Deployment.id == deployment_id)).first()
    if row is None:
        raise NotFound(f"部署 {deployment_id} 不存在")
    forms = {key: FormDefinition.from_json(text, source=key) for key, text in row.forms.items()}
    registry = FormRegistry(forms, dict(row.forms))
    process = parse_process(row.bpmn_xml.encode("utf-8"), row.filename, registry)
    return LoadedDeployment(row.id, process, forms)
