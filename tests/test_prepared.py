"""Hot-path statements on the DBAPI cursor behave as SQLAlchemy's own execution would."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest
from sqlalchemy import bindparam, insert, select, update
from sqlalchemy.exc import IntegrityError

from engine.models import Notice, User
from engine.prepared import Prepared, savepoint

_N = Notice.__table__
ADD = Prepared(insert(_N).values(at=bindparam("b_at"), kind=bindparam("b_kind"), recipients=bindparam("b_to"),
                                 text=bindparam("b_text")))
NEWEST = Prepared(select(_N.c.kind, _N.c.at, _N.c.recipients, _N.c.text).where(_N.c.kind != "skip")
                  .order_by(_N.c.id.desc()).limit(bindparam("b_limit")))
BEIJING = timezone(timedelta(hours=8))


def notice(kind: str, at: datetime | None = None) -> dict:
    return {"b_at": at or datetime(2026, 11, 20, 9, 30, tzinfo=BEIJING), "b_kind": kind, "b_to": ["受理员", "组长"],
            "b_text": "请尽快处理 <script>"}


def stored(db) -> list[str]:
    with db.engine.connect() as conn:
        return list(conn.scalars(select(_N.c.kind).order_by(_N.c.id)))


def test_values_go_in_and_come_back_with_the_column_types_conversions(db):
    with db.transaction() as conn:
        ADD.executemany(conn, [notice("urge"), notice("reminder"), notice("skip")])
        rows = NEWEST.all(conn, {"b_limit": 5})
    at = datetime(2026, 11, 20, 1, 30, tzinfo=UTC)  # Beijing time is stored as UTC and read back aware
    assert rows == [(kind, at, ["受理员", "组长"], "请尽快处理 <script>") for kind in ("reminder", "urge")]
    with db.engine.connect() as conn:  # SQLAlchemy's own reading of what was written agrees
        assert conn.execute(select(_N.c.at, _N.c.recipients).limit(1)).one() == (at, ["受理员", "组长"])


def test_update_reports_its_row_count(db):
    with db.transaction() as conn:
        ADD.execute(conn, notice("urge"))
        rename = Prepared(update(_N).where(_N.c.kind == bindparam("b_old")).values(kind=bindparam("b_new")))
        assert rename.execute(conn, {"b_old": "urge", "b_new": "escalation"}).rowcount == 1
        assert rename.execute(conn, {"b_old": "urge", "b_new": "escalation"}).rowcount == 0
    assert stored(db) == ["escalation"]


def test_a_database_error_is_sqlalchemys_and_the_transaction_rolls_back(db):
    users = Prepared(insert(User.__table__).values(username=bindparam("b_name"), display_name=bindparam("b_display"),
                                                   password_hash=bindparam("b_hash"), roles=bindparam("b_roles"),
                                                   active=bindparam("b_active"),
                                                   created_at=bindparam("b_at")))
    row = {"b_name": "dup", "b_display": "重复", "b_hash": "x", "b_roles": [], "b_active": True,
           "b_at": datetime.now(UTC)}
    with pytest.raises(IntegrityError), db.transaction() as conn:
        ADD.execute(conn, notice("urge"))
        users.executemany(conn, [row, row])
    assert stored(db) == []


def test_savepoint_undoes_only_what_its_block_wrote(db):
    with db.transaction() as conn:
        ADD.execute(conn, notice("kept"))
        with pytest.raises(ValueError), savepoint(conn):
            ADD.execute(conn, notice("undone"))
            raise ValueError("a firing failed after writing")
        with savepoint(conn):
            ADD.execute(conn, notice("released"))
    assert stored(db) == ["kept", "released"]


def test_datetimes_bind_as_sqlalchemy_would_however_often_repeated(db):
    """UtcDateTime keeps its last conversions: a repeated instant, in any zone, binds as a fresh one would."""
    dialect = db.engine.dialect
    kept = Notice.__table__.c.at.type.dialect_impl(dialect).bind_processor(dialect)
    plain = Notice.__table__.c.at.type.impl.dialect_impl(dialect).bind_processor(dialect) or (lambda v: v)
    moments = [datetime(2026, 11, 20, 1, 30, tzinfo=UTC), datetime(2026, 11, 20, 9, 30, tzinfo=BEIJING),
               datetime(9999, 12, 31, tzinfo=UTC), datetime(2026, 11, 20, 1, 30, 0, 5, tzinfo=UTC)]
    moments += [datetime(2026, 1, 1, tzinfo=UTC) + timedelta(minutes=n) for n in range(100)]  # past what is kept
    for at in moments * 3:
        assert kept(at) == plain(at.astimezone(UTC))
    assert kept(None) is None
    with pytest.raises(ValueError, match="naive"):
        kept(datetime(2026, 11, 20, 1, 30))
