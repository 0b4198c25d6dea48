"""A handling unit's users see and do only the work of tickets dispatched to their unit."""

from __future__ import annotations

import csv

import pytest

from engine import demo, queries
from engine.audit_export import export_audit
from engine.audit_query import AuditFilter
from engine.errors import Forbidden
from engine.privacy import Actor
from tests.conftest import ADMIN, UNIT
from tests.helpers import DISPATCH, SCREEN_OK, VALID, audit_rows, do, open_task, receive, snapshot
from tests.web_fixtures import PASSWORD, login_page

ENFORCEMENT = DISPATCH["lead_unit"]  # 城南街道综合执法队
PROPERTY = "城南街道物业管理科"
ENFORCER = Actor("执法队刘", frozenset({"unit"}), ENFORCEMENT)
PROPERTY_CLERK = Actor("物业科李", frozenset({"unit"}), PROPERTY)


@pytest.fixture
def dispatched(engine) -> dict[str, int]:
    """U-1 waits for 综合执法队's sign-for, U-2 for 物业管理科's, U-3 for dispatch: ticket number -> instance."""
    instances = {}
    for ticket_no, unit in (("U-1", ENFORCEMENT), ("U-2", PROPERTY), ("U-3", None)):
        instance_id = receive(engine, ticket_no).instance_id
        do(engine, instance_id, "verify", VALID)
        do(engine, instance_id, "screen", SCREEN_OK)
        if unit:
            do(engine, instance_id, "dispatch", {"lead_unit": unit})
        instances[ticket_no] = instance_id
    return instances


def _listed(engine, actor: Actor, roles: frozenset[str] | None, assignee: str | None = None) -> list[tuple]:
    flt = queries.TaskFilter(roles=roles, assignee=assignee, unit=actor.scoped_unit)
    with engine.db.read() as session:
        return [(row["ticket_no"], row["step"]) for row in queries.open_tasks(session, flt)]


@pytest.mark.parametrize("roles", [{"unit"}, {"unit", "dispatcher"}, None])
def test_a_scoped_unit_lists_only_its_units_tasks_and_other_roles_tasks_unchanged(engine, dispatched, roles):
    roles = None if roles is None else frozenset(roles)
    mine = _listed(engine, ENFORCER, roles)
    assert ("U-1", "sign_for") in mine and ("U-2", "sign_for") not in mine
    assert ("U-3", "dispatch") in mine if roles is None or "dispatcher" in roles else len(mine) == 1
    assert ("U-2", "sign_for") in _listed(engine, PROPERTY_CLERK, roles)
    every = _listed(engine, UNIT, roles)  # no unit: a coordinator of every unit
    assert set(every) == set(mine) | {("U-2", "sign_for")}


def test_the_unit_filter_combines_with_the_assignee_filter(engine, dispatched):
    engine.claim(open_task(engine, dispatched["U-1"], "sign_for").id, ENFORCER)
    assert _listed(engine, ENFORCER, frozenset({"unit"}), ENFORCER.name) == [("U-1", "sign_for")]
    assert _listed(engine, PROPERTY_CLERK, frozenset({"unit"}), ENFORCER.name) == []


def test_another_units_task_is_refused_and_nothing_changes(engine, dispatched):
    task_id = open_task(engine, dispatched["U-2"], "sign_for").id
    before = snapshot(engine)
    for attempt in (lambda: engine.complete_task(task_id, {"accepted": True}, ENFORCER),
                    lambda: engine.claim(task_id, ENFORCER),
                    lambda: engine.claim(task_id, ENFORCER, release=True),
                    lambda: engine.view_task(task_id, ENFORCER)):
        with pytest.raises(Forbidden, match="不属于您的单位"):
            attempt()
    assert snapshot(engine) == before
    assert engine.view_task(task_id, PROPERTY_CLERK)["ticket"]["ticket_no"] == "U-2"
    engine.claim(task_id, PROPERTY_CLERK)
    engine.complete_task(task_id, {"accepted": True}, PROPERTY_CLERK)
    assert open_task(engine, dispatched["U-2"], "register")


def test_unscoped_unit_users_and_admins_act_on_every_units_tasks(engine, dispatched):
    engine.complete_task(open_task(engine, dispatched["U-1"], "sign_for").id, {"accepted": True}, UNIT)
    admin_with_unit = Actor(ADMIN.name, ADMIN.roles, PROPERTY)
    engine.complete_task(open_task(engine, dispatched["U-1"], "register").id,
                         {"handler_name": "刘", "handling_plan": "现场核实", "citizen_contacted": True},
                         admin_with_unit)
    assert open_task(engine, dispatched["U-1"], "handle")


def _reads(engine) -> list[tuple[str, int]]:
    return [(row.actor, row.ticket_id) for row in audit_rows(engine) if row.event == "personal_data.read"]


def test_callers_data_of_another_units_ticket_is_masked_and_not_recorded(engine, dispatched):
    other = engine.view_ticket("U-2", ENFORCER)
    assert (other["caller_phone"], other["personal_data_masked"]) == ("138****8000", True)
    undispatched = engine.view_ticket("U-3", ENFORCER)
    assert undispatched["caller_phone"] == "138****8000"
    assert _reads(engine) == []
    own = engine.view_ticket("U-1", ENFORCER)
    assert (own["caller_name"], own["caller_phone"], own["personal_data_masked"]) == ("张明", "13800138000", False)
    assert _reads(engine) == [(ENFORCER.name, own["id"])]


def test_another_role_that_grants_personal_data_still_does(engine, dispatched):
    intake_too = Actor("兼受理员", frozenset({"unit", "intake"}), ENFORCEMENT)
    assert engine.view_ticket("U-2", intake_too)["caller_phone"] == "13800138000"
    assert engine.view_ticket("U-2", UNIT)["caller_phone"] == "13800138000"


def test_an_audit_export_shows_a_scoped_auditors_callers_only_of_their_unit(engine, dispatched, tmp_path):
    auditing_unit = Actor("审计员兼执法队", frozenset({"auditor", "unit"}), ENFORCEMENT)
    result = export_audit(engine, auditing_unit, AuditFilter(event="ticket.received"), tmp_path / "e.csv")
    with (tmp_path / "e.csv").open(encoding="utf-8-sig", newline="") as handle:
        phones = {line["工单编号"]: line["来电号码"] for line in csv.DictReader(handle)}
    assert phones == {"U-1": "13800138000", "U-2": "138****8000", "U-3": "138****8000"}
    assert result.unmasked_tickets == 1


def test_demo_unit_users_belong_to_the_demo_tickets_units(engine):
    demo.seed_users(engine)
    assert engine.users.get("chengban").unit == "城南街道综合执法队"
    assert engine.users.get("wuye").unit == PROPERTY
    assert engine.users.get("paidan").unit is None


# -- the JSON API and the pages ----------------------------------------------------------------


@pytest.fixture
def enforcer(app, engine) -> str:
    engine.users.add("zhifadui", "执法队刘", ["unit"], PASSWORD, ADMIN, ENFORCEMENT)
    return "zhifadui"


def _error(reply, status: int) -> dict:
    assert reply.status_code == status, reply.json
    assert set(reply.json) == {"code", "message", "errors"}
    return reply.json


def test_api_lists_and_acts_only_on_the_users_units_tasks(client, token, engine, dispatched, enforcer):
    listed = client.get("/api/v1/tasks", headers=token(enforcer)).json
    assert [(t["ticket_no"], t["step"]) for t in listed] == [("U-1", "sign_for")]
    coordinator = client.get("/api/v1/tasks", headers=token("chengban")).json
    assert {t["ticket_no"] for t in coordinator} == {"U-1", "U-2"}

    other = open_task(engine, dispatched["U-2"], "sign_for")
    version = client.get(f"/api/v1/tasks/{other.id}", headers=token("chengban")).json["instance_version"]
    before = snapshot(engine)
    for url, body in ((f"/api/v1/tasks/{other.id}/complete", {"data": {"accepted": True}, "version": version}),
                      (f"/api/v1/tasks/{other.id}/claim", None), (f"/api/v1/tasks/{other.id}/release", None)):
        refused = _error(client.post(url, json=body, headers=token(enforcer)), 403)
        assert refused["code"] == "forbidden" and "不属于您的单位" in refused["message"]
    _error(client.get(f"/api/v1/tasks/{other.id}", headers=token(enforcer)), 403)
    assert snapshot(engine) == before

    own = open_task(engine, dispatched["U-1"], "sign_for")
    assert client.post(f"/api/v1/tasks/{own.id}/claim", headers=token(enforcer)).status_code == 204


def test_api_ticket_shows_callers_data_only_of_the_users_unit(client, token, engine, dispatched, enforcer):
    other = client.get("/api/v1/tickets/U-2", headers=token(enforcer)).json
    assert other["caller_phone"] == "138****8000" and other["personal_data_masked"] is True
    assert _reads(engine) == []
    own = client.get("/api/v1/tickets/U-1", headers=token(enforcer)).json
    assert own["caller_phone"] == "13800138000"
    assert _reads(engine) == [(enforcer, own["id"])]


def test_my_tasks_page_shows_only_the_users_units_tasks(client, engine, dispatched, enforcer):
    login_page(client, enforcer)
    page = client.get("/tasks").get_data(as_text=True)
    assert "U-1" in page and "U-2" not in page
    assert client.get(f"/tasks/{open_task(engine, dispatched['U-2'], 'sign_for').id}").status_code == 403
    assert client.get(f"/tasks/{open_task(engine, dispatched['U-1'], 'sign_for').id}").status_code == 200
    assert "138****8000" in client.get("/tickets/U-2").get_data(as_text=True)
    assert "13800138000" in client.get("/tickets/U-1").get_data(as_text=True)


# -- the command line --------------------------------------------------------------------------


def test_cli_sets_changes_and_clears_a_users_unit_with_audit(run, engine):
    added = run("user", "add", "wuye2", "--name", "物业科", "--role", "unit", "--unit", PROPERTY,
                stdin=f"{PASSWORD}\n{PASSWORD}\n")
    assert added.exit_code == 0, added.output
    assert engine.users.get("wuye2").unit == PROPERTY
    assert engine.users.get("wuye2").actor.scoped_unit == PROPERTY
    changed = run("user", "unit", "wuye2", "--unit", ENFORCEMENT, "--actor", "管理员乙")
    assert changed.exit_code == 0 and ENFORCEMENT in changed.output
    assert run("user", "unit", "wuye2", "--clear").exit_code == 0
    assert engine.users.get("wuye2").unit is None
    assert run("user", "unit", "wuye2").exit_code == 2
    assert run("user", "unit", "nobody", "--unit", PROPERTY).exit_code == 1
    rows = [row for row in audit_rows(engine) if row.event in ("user.created", "user.updated")]
    assert [(row.event, row.actor, row.data.get("unit"), row.data.get("before"), row.data.get("after"))
            for row in rows][-3:] == [
        ("user.created", rows[-3].actor, PROPERTY, None, None),
        ("user.updated", "管理员乙", None, PROPERTY, ENFORCEMENT),
        ("user.updated", rows[-1].actor, None, ENFORCEMENT, None),
    ]

