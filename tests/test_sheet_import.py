"""Import of 12345 ticket sheets: errors change nothing, the same sheet twice changes nothing."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from sqlalchemy import select

from engine.analysis.ticket_import import import_tickets
from engine.errors import InvalidData
from engine.models import SheetImport, Ticket
from tests.conftest import ADMIN
from tests.helpers import audit_rows, snapshot
from tests.sheets import HEADER, sheet_row, write_csv, write_xlsx


def stored(engine, ticket_no: str) -> Ticket:
    with engine.db.read() as session:
        return session.scalar(select(Ticket).where(Ticket.ticket_no == ticket_no))


@pytest.mark.parametrize(("writer", "suffix"), [(write_csv, "csv"), (write_xlsx, "xlsx")])
def test_import_creates_archived_tickets(engine, tmp_path, writer, suffix):
    rows = [sheet_row("S-1", 七有五性="宜居性、安全性", 每月一题="老旧小区加装电梯"),
            sheet_row("S-2", "2026/11/03 14:05", 是否保留="否", 是否满意="基本满意", 工单性质="协办")]
    result = import_tickets(engine, writer(tmp_path / f"sheet.{suffix}", rows), ADMIN)
    assert (result.rows, result.created, result.updated, result.already_imported) == (2, 2, 0, False)
    first, second = stored(engine, "S-1"), stored(engine, "S-2")
    assert first.origin == "import" and first.status == "archived" and first.import_id is not None
    assert first.received_at == datetime(2026, 11, 2, 1, 30, tzinfo=UTC)  # 09:30 Beijing
    assert first.policy_tags == ["宜居性", "安全性"] and first.monthly_theme == "老旧小区加装电梯"
    assert (first.caller_name, first.caller_phone, first.valid_callback, first.exempted) == (
        "李四", "13912345678", True, False)
    assert second.received_at == datetime(2026, 11, 3, 6, 5, tzinfo=UTC)
    assert (second.exempted, second.satisfaction, second.handling_role) == (True, "基本满意", "协办")


def test_same_sheet_twice_changes_nothing(engine, tmp_path):
    path = write_csv(tmp_path / "a.csv", [sheet_row("S-1"), sheet_row("S-2")])
    import_tickets(engine, path, ADMIN)
    before = snapshot(engine) | {"sheet_imports": _imports(engine)}
    again = import_tickets(engine, path, ADMIN)
    assert again.already_imported and again.created == 0
    assert snapshot(engine) | {"sheet_imports": _imports(engine)} == before


def test_later_export_updates_changed_rows_only(engine, tmp_path):
    import_tickets(engine, write_csv(tmp_path / "a.csv", [sheet_row("S-1"), sheet_row("S-2")]), ADMIN)
    later = [sheet_row("S-1"), sheet_row("S-2", 是否满意="不满意"), sheet_row("S-3")]
    result = import_tickets(engine, write_csv(tmp_path / "b.csv", later), ADMIN)
    assert (result.created, result.updated, result.unchanged) == (1, 1, 1)
    assert stored(engine, "S-2").satisfaction == "不满意"


def test_unknown_and_missing_columns_are_named(engine, tmp_path):
    header = [name for name in HEADER if name not in ("是否满意", "村/社区")] + ["备注"]
    before = snapshot(engine)
    with pytest.raises(InvalidData) as error:
        import_tickets(engine, write_csv(tmp_path / "bad.csv", [sheet_row("S-1")], header), ADMIN)
    assert "无法识别的列：备注" in error.value.message
    assert "缺少的列：是否满意、村/社区" in error.value.message
    assert snapshot(engine) == before


def test_bad_rows_are_listed_and_nothing_is_written(engine, tmp_path):
    rows = [sheet_row("S-1"), sheet_row("S-2", 来电时间="昨天下午"), sheet_row("S-3", 是否解决="也许"),
            sheet_row("S-1"), sheet_row("", 七有五性="共同富裕")]
    before = snapshot(engine)
    with pytest.raises(InvalidData) as error:
        import_tickets(engine, write_csv(tmp_path / "bad.csv", rows), ADMIN)
    message = error.value.message
    assert "有 5 处错误，未导入任何数据" in message
    assert "第 3 行：来电时间“昨天下午”不是有效时间" in message
    assert "第 4 行：是否解决“也许”应填“是”或“否”" in message
    assert "第 5 行：工单编号 S-1 与第 2 行重复" in message
    assert "第 6 行：七有五性“共同富裕”含有未定义的标签 共同富裕" in message and "第 6 行：工单编号为空" in message
    assert snapshot(engine) == before


def test_unsupported_file_is_refused(engine, tmp_path):
    path = tmp_path / "tickets.txt"
    path.write_text("工单编号\n1\n", encoding="utf-8")
    with pytest.raises(InvalidData, match="格式不支持"):
        import_tickets(engine, path, ADMIN)


def test_audit_row_holds_no_personal_data(engine, tmp_path):
    import_tickets(engine, write_csv(tmp_path / "a.csv", [sheet_row("S-1")]), ADMIN)
    row = audit_rows(engine)[-1]
    assert row.event == "sheet.imported" and row.data["rows"] == 1 and row.data["created"] == 1
    assert "李四" not in repr(row.data) and "13912345678" not in repr(row.data)


def _imports(engine):
    with engine.db.read() as session:
        return sorted((r.kind, r.content_hash, r.rows) for r in session.scalars(select(SheetImport)))


def test_csv_saved_by_chinese_excel_in_gb18030(engine, tmp_path):
    utf8 = write_csv(tmp_path / "utf8.csv", [sheet_row("GB-1")])
    gb = tmp_path / "gb.csv"
    gb.write_bytes(utf8.read_text(encoding="utf-8-sig").encode("gb18030"))
    assert import_tickets(engine, gb, ADMIN).created == 1
    assert stored(engine, "GB-1").community == "龙锦苑社区"


def test_empty_and_header_only_files(engine, tmp_path):
    empty = tmp_path / "empty.csv"
    empty.write_bytes(b"")
    with pytest.raises(InvalidData, match="是空的"):
        import_tickets(engine, empty, ADMIN)
    header_only = write_csv(tmp_path / "header.csv", [])
    assert import_tickets(engine, header_only, ADMIN).rows == 0
