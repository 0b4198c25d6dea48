"""Contract end: everything exported in open formats with a manifest, then callers' data purged on record."""

from __future__ import annotations

import csv
import hashlib
import json
from contextlib import contextmanager

import pytest
from sqlalchemy import func, select

from engine.audit_verify import verify_chain, verify_export
from engine.errors import Conflict, DuplicateTicket, Forbidden, InvalidData
from engine.handover import PURGED_INTAKE_HASH, export_all, purge_personal_data, verify_export_folder
from engine.models import Base, Ticket, TicketSignature
from tests.conftest import ADMIN, INTAKE
from tests.helpers import VALID, audit_rows, do, receive, snapshot, ticket_row, to_handling


def _sha(path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _csv(path) -> list[dict[str, str]]:
    with path.open(encoding="utf-8-sig", newline="") as handle:
        return list(csv.DictReader(handle))


@pytest.fixture
def attachments(tmp_path):
    folder = tmp_path / "uploads"
    (folder / "T-1").mkdir(parents=True)
    (folder / "T-1" / "照片1.jpg").write_bytes(b"\xff\xd8 photo")
    (folder / "readme.txt").write_text("证据材料", encoding="utf-8")
    return folder


@pytest.fixture
def worked(engine):
    first = receive(engine, "H-1")
    to_handling(engine, first.instance_id)
    second = receive(engine, "H-2", caller_name=None, caller_phone=None)
    third = receive(engine, "H-3", caller_phone="010-65123456")
    return first, second, third


def test_export_writes_every_table_with_a_manifest_and_records_it(engine, worked, tmp_path, attachments):
    folder = tmp_path / "out"
    summary = export_all(engine, ADMIN, folder, attachments)
    manifest = json.loads((folder / "manifest.json").read_text(encoding="utf-8"))
    with engine.db.engine.connect() as conn:
        counts = {t.name: conn.scalar(select(func.count()).select_from(t)) for t in Base.metadata.sorted_tables}
    for name, entry in manifest["files"].items():
        assert _sha(folder / name) == entry["sha256"] and (folder / name).stat().st_size == entry["bytes"]
    rows = {name: entry["rows"] for name, entry in manifest["files"].items() if entry["rows"] is not None}
    assert rows == summary.rows == {"tickets.csv": 3, "tasks.csv": counts["tasks"],
                                    "audit_events.csv": counts["audit_events"] - 1,  # not the export's own row
                                    "instances.jsonl": 3, "deployments.jsonl": counts["deployments"]} | {
        f"{table}.csv": 0 for table in ("complaint_groups", "complaint_group_tickets", "incidents", "incident_tickets",
                                        "incident_evidence", "alerts", "duty_roster")}
    assert (folder / "attachments" / "T-1" / "照片1.jpg").read_bytes() == b"\xff\xd8 photo"
    assert summary.attachments == 2 and "attachments/readme.txt" in manifest["files"]

    tickets = _csv(folder / "tickets.csv")
    assert [(t["ticket_no"], t["caller_name"], t["caller_phone"]) for t in tickets] == [
        ("H-1", "张明", "13800138000"), ("H-2", "", ""), ("H-3", "张明", "010-65123456")]
    audit_lines = _csv(folder / "audit_events.csv")
    trail = audit_rows(engine)
    assert manifest["audit_head"] == {"id": trail[-2].id, "hash": trail[-2].hash}
    assert [line["hash"] for line in audit_lines] == [r.hash for r in trail[:-1]]
    instance = json.loads((folder / "instances.jsonl").read_text(encoding="utf-8").splitlines()[0])
    assert isinstance(instance["state"], dict) and instance["ticket_id"] == worked[0].ticket_id

    record = trail[-1]
    assert (record.event, record.actor) == ("data.exported", ADMIN.name)
    assert record.data["manifest_sha256"] == summary.manifest_sha256 == _sha(folder / "manifest.json")
    assert record.data["rows"] == summary.rows


def test_export_refuses_a_folder_in_use_and_non_admins(engine, worked, tmp_path):
    (tmp_path / "used").mkdir()
    (tmp_path / "used" / "x.txt").write_text("x")
    with pytest.raises(InvalidData, match="不为空"):
        export_all(engine, ADMIN, tmp_path / "used")
    with pytest.raises(Forbidden, match="系统管理员"):
        export_all(engine, INTAKE, tmp_path / "new")
    assert not (tmp_path / "new").exists()


def test_purge_removes_callers_data_and_leaves_a_verifiable_record(engine, worked, tmp_path):
    first, second, third = worked
    summary = export_all(engine, ADMIN, tmp_path / "out")
    engine.view_ticket("H-1", INTAKE)  # reading after the export changes nothing it holds
    untouched = ticket_row(engine, second.ticket_id).intake_hash  # its hash covers no personal data
    purged = purge_personal_data(engine, ADMIN, tmp_path / "out")
    assert purged.tickets == 2
    hashes = [PURGED_INTAKE_HASH, untouched, PURGED_INTAKE_HASH]
    for ticket, intake_hash in zip((first, second, third), hashes, strict=True):
        row = ticket_row(engine, ticket.ticket_id)
        assert (row.caller_name, row.caller_phone, row.intake_hash) == (None, None, intake_hash)
    record = audit_rows(engine)[-1]
    export_row = next(r for r in audit_rows(engine) if r.event == "data.exported")
    assert (record.id, record.event) == (purged.audit_id, "personal_data.purged")
    assert record.data == {"tickets": 2, "fields": ["caller_name", "caller_phone"],
                           "manifest_sha256": summary.manifest_sha256, "export_audit_id": export_row.id}
    with engine.db.engine.connect() as conn:
        assert verify_chain(conn).ok
    assert engine.view_ticket("H-1", INTAKE)["caller_phone"] is None
    assert audit_rows(engine)[-1].event == "personal_data.purged"  # nothing left to read, no read recorded
    with engine.db.read() as session:
        assert session.scalars(select(TicketSignature.caller_hash)).all() == [None] * 3


def _refused(engine, folder, message):
    before = snapshot(engine)
    with pytest.raises(Conflict, match=message):
        purge_personal_data(engine, ADMIN, folder)
    assert snapshot(engine) == before


def test_purge_without_an_export_is_refused(engine, worked, tmp_path):
    _refused(engine, tmp_path / "nothing", "请先执行全量导出")


def test_purge_refuses_an_export_with_a_changed_or_missing_file(engine, worked, tmp_path):
    export_all(engine, ADMIN, tmp_path / "out")
    with (tmp_path / "out" / "tickets.csv").open("a", encoding="utf-8") as handle:
        handle.write("forged\n")
    _refused(engine, tmp_path / "out", "tickets.csv 缺失或与清单不符")
    export_all(engine, ADMIN, tmp_path / "again")
    (tmp_path / "again" / "tasks.csv").unlink()
    _refused(engine, tmp_path / "again", "tasks.csv 缺失或与清单不符")


def test_purge_refuses_a_manifest_the_trail_does_not_know(engine, worked, tmp_path):
    export_all(engine, ADMIN, tmp_path / "out")
    manifest = tmp_path / "out" / "manifest.json"
    manifest.write_text(manifest.read_text(encoding="utf-8").replace(ADMIN.name, "别人"), encoding="utf-8")
    _refused(engine, tmp_path / "out", "审计记录中没有这次导出")


def test_purge_refuses_when_tickets_changed_after_the_export(engine, worked, tmp_path):
    export_all(engine, ADMIN, tmp_path / "out")
    do(engine, worked[2].instance_id, "verify", VALID)
    _refused(engine, tmp_path / "out", "导出之后工单又有变动")
    export_all(engine, ADMIN, tmp_path / "fresh")
    assert purge_personal_data(engine, ADMIN, tmp_path / "fresh").tickets == 2


def test_purge_is_for_admins_only(engine, worked, tmp_path):
    export_all(engine, ADMIN, tmp_path / "out")
    with pytest.raises(Forbidden):
        purge_personal_data(engine, INTAKE, tmp_path / "out")
    assert ticket_row(engine, worked[0].ticket_id).caller_name == "张明"


def test_intake_of_a_purged_ticket_number_is_refused(engine, worked, tmp_path):
    export_all(engine, ADMIN, tmp_path / "out")
    purge_personal_data(engine, ADMIN, tmp_path / "out")
    with engine.db.engine.connect() as conn:
        assert conn.scalar(select(func.count()).select_from(Ticket)) == 3
    with pytest.raises(DuplicateTicket):
        receive(engine, "H-1")


def test_purge_refuses_an_export_that_missed_a_change_made_while_it_ran(engine, worked, tmp_path):
    @contextmanager
    def busy_colleague(label: str, _total: int):
        if label == "tickets.csv":  # another person works on a ticket while the export reads the snapshot
            do(engine, worked[2].instance_id, "verify", VALID)
        yield lambda _n: None

    export_all(engine, ADMIN, tmp_path / "out", bars=busy_colleague)
    exported = {t["ticket_no"]: t["current_step"] for t in _csv(tmp_path / "out" / "tickets.csv")}
    assert (exported["H-3"], ticket_row(engine, worked[2].ticket_id).current_step) == ("核实", "甄别")
    _refused(engine, tmp_path / "out", "导出之后工单又有变动")


def test_an_export_verifies_on_its_own_and_edits_in_it_are_found(engine, worked, tmp_path):
    summary = export_all(engine, ADMIN, tmp_path / "out")
    report = verify_export_folder(tmp_path / "out")
    head = json.loads((tmp_path / "out" / "manifest.json").read_text(encoding="utf-8"))["audit_head"]
    assert report.ok and report.checked == summary.rows["audit_events.csv"]
    assert (report.head_id, report.head_hash) == (head["id"], head["hash"])

    lines = (tmp_path / "out" / "audit_events.csv").read_text(encoding="utf-8-sig").splitlines(keepends=True)
    edited = tmp_path / "edited.csv"
    edited.write_text("".join(lines).replace(INTAKE.name, "别人", 1), encoding="utf-8-sig")
    first_by_intake = next(r.id for r in audit_rows(engine) if r.actor == INTAKE.name)
    assert verify_export(edited).broken_id == first_by_intake
    shortened = tmp_path / "shortened.csv"
    shortened.write_text("".join(lines[:1] + lines[1:4] + lines[5:]), encoding="utf-8-sig")
    assert verify_export(shortened).broken_id == int(lines[5].split(",")[0])

    (tmp_path / "out" / "audit_events.csv").write_text("".join(lines[:-1]), encoding="utf-8-sig")
    with pytest.raises(Conflict, match=r"audit_events\.csv 缺失或与清单不符"):
        verify_export_folder(tmp_path / "out")
