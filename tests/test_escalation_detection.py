"""Group-complaint detection at intake on a realistic set of Chinese tickets, and what it may not do."""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime

from sqlalchemy import func, select

from engine.escalation.detection import caller_hash
from engine.models import Alert, AuditEvent, ComplaintGroup, ComplaintGroupTicket, Ticket
from tests.conftest import INTAKE
from tests.escalation_tickets import EXPECTED_GROUPS, FORMED_BY, TICKETS, intake_fields
from tests.helpers import receive

PHONE = re.compile(r"1[3-9]\d[ -]?\d{4}[ -]?\d{4}")


def _groups(engine) -> dict[tuple[str, str], set[str]]:
    with engine.db.read() as session:
        rows = session.execute(select(ComplaintGroup.place_key, ComplaintGroup.issue_key, Ticket.ticket_no)
                               .join(ComplaintGroupTicket, ComplaintGroupTicket.group_id == ComplaintGroup.id)
                               .join(Ticket, Ticket.id == ComplaintGroupTicket.ticket_id)).all()
    found: dict[tuple[str, str], set[str]] = {}
    for place, issue, number in rows:
        found.setdefault((place, issue), set()).add(number.removeprefix("Q-"))
    return found


def _group_count(engine) -> int:
    with engine.db.read() as session:
        return session.scalar(select(func.count()).select_from(ComplaintGroup))


def _receive_all(engine, clock) -> set[str]:
    """Receive every ticket in the order they came in; the tickets whose arrival formed a group."""
    clock.now = datetime(2026, 11, 30, 1, 0, tzinfo=UTC)
    formed = set()
    for row in sorted(TICKETS, key=lambda r: r[1]):
        before = _group_count(engine)
        engine.intake(intake_fields(row), INTAKE)
        if _group_count(engine) > before:
            formed.add(row[0])
    return formed


def test_the_groups_that_form_and_the_near_misses_that_do_not(engine, clock):
    assert len(TICKETS) >= 60
    formed = _receive_all(engine, clock)
    assert _groups(engine) == EXPECTED_GROUPS
    assert formed == FORMED_BY
    with engine.db.read() as session:
        counts = {(g.place_key, g.issue_key): (g.ticket_count, g.caller_count)
                  for g in session.scalars(select(ComplaintGroup))}
    # D1 and D2 are one caller writing the number two ways; A4 named the place only in its content
    assert counts[("华龙苑南里", "停水")] == (4, 3)
    assert counts[("龙锦苑东5区", "油烟扰民")] == (5, 5)

    incidents = engine.escalations.incidents()
    by_trigger = sorted((i["trigger"], i["title"], i["ticket_count"]) for i in incidents)
    assert by_trigger == [
        ("group", "华龙苑南里停水群诉", 4), ("group", "南环路路灯群诉", 3), ("group", "天通苑北1区供暖群诉", 5),
        ("group", "育知东路噪声扰民群诉", 3), ("group", "龙锦苑东5区油烟扰民群诉", 5),
        ("sensitive_words", "宏福苑舆情线索", 1)]
    [opinion] = [i for i in incidents if i["kind"] == "public_opinion"]
    assert "媒体（曝光、记者）" in opinion["reason"]
    assert all(i["status"] == "running" for i in incidents)


def test_every_linked_ticket_shows_its_group_and_incident(engine, clock):
    _receive_all(engine, clock)
    for (place, issue), members in EXPECTED_GROUPS.items():
        for member in members:
            links = engine.escalations.for_ticket(f"Q-{member}")
            [group] = links["groups"]
            assert (group["place"], group["issue"]) == (place, issue)
            assert {n.removeprefix("Q-") for n in group["ticket_nos"]} == members
            assert [i["title"] for i in links["incidents"]] == [f"{place}{issue}群诉"]
    assert engine.escalations.for_ticket("Q-G5") == {"groups": [], "incidents": []}


def test_phones_are_compared_as_keyed_hashes_and_never_written_to_audit_or_alerts(engine, clock):
    assert caller_hash("+86 138-0000-1234") == caller_hash("13800001234") != caller_hash("13800001235")
    assert caller_hash(None) is None and caller_hash("") is None
    _receive_all(engine, clock)
    with engine.db.read() as session:
        texts = [json.dumps(data, ensure_ascii=False) for data in session.scalars(select(AuditEvent.data))]
        texts += [a.subject + a.body for a in session.scalars(select(Alert))]
    assert texts and not [t for t in texts if PHONE.search(t)]


def test_a_group_that_keeps_growing_becomes_a_public_opinion_incident(engine, clock):
    for n in range(1, 6):
        receive(engine, f"W-{n}", caller_phone=f"1390000000{n}", address=f"天通苑北一区{n}号楼",
                content="暖气不热，家里太冷了。")
    [incident] = engine.escalations.incidents()
    assert (incident["kind"], incident["ticket_count"]) == ("group_complaint", 5)
    receive(engine, "W-6", caller_phone="13900000006", address="天通苑北一区9号楼", content="供暖不达标，室温太低。")
    [incident] = engine.escalations.incidents()
    assert (incident["kind"], incident["trigger"], incident["ticket_count"]) == ("public_opinion", "group_growing", 6)
    view = engine.escalations.incident(incident["id"])
    assert [a["level"] for a in view["alerts"]] == []  # nobody on the roster: rounds are recorded, nothing to send
    with engine.db.read() as session:
        events = list(session.scalars(select(AuditEvent.event).where(AuditEvent.event.in_(
            ["group.formed", "group.joined", "incident.opened", "incident.upgraded", "alert.unstaffed"]))
            .order_by(AuditEvent.id)))
    assert events.count("incident.upgraded") == 1 and events.count("group.formed") == 1
    assert events.count("alert.unstaffed") == 2  # the first round and the upgrade, both at level 1
