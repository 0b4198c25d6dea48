"""Drivers of every path through workflows/ticket.bpmn, from intake onwards, through the engine API."""

from __future__ import annotations

from tests.conftest import INTAKE
from tests.helpers import (
    APPROVE,
    DISPATCH,
    EXTEND,
    REGISTER,
    REPLY,
    SATISFIED,
    SCREEN_NOT_OURS,
    SCREEN_OK,
    VALID,
    do,
    finish,
    fire_all,
    to_handling,
)


def path_invalid(engine, iid):
    do(engine, iid, "verify", {"is_valid": False, "invalid_reason": "false_report", "contact_verified": True})


def path_return(engine, iid):
    do(engine, iid, "verify", VALID)
    do(engine, iid, "screen", SCREEN_NOT_OURS)
    engine.deliver_message(iid, "return_decision", {"return_approved": True}, INTAKE)


def path_return_rejected_and_reassigned(engine, iid):
    do(engine, iid, "verify", VALID)
    do(engine, iid, "screen", SCREEN_NOT_OURS)
    engine.deliver_message(iid, "return_decision", {"return_approved": False}, INTAKE)
    do(engine, iid, "dispatch", DISPATCH)
    do(engine, iid, "sign_for", {"accepted": False, "sign_reject_reason": "非本单位职责"})
    do(engine, iid, "screen", SCREEN_OK)
    do(engine, iid, "dispatch", DISPATCH)
    do(engine, iid, "sign_for", {"accepted": True})
    do(engine, iid, "register", REGISTER)
    finish(engine, iid)


def path_extensions_review_exemption_reopen(engine, iid):
    to_handling(engine, iid)
    for _ in range(3):
        do(engine, iid, "handle", EXTEND)
        do(engine, iid, "approve_extension", {"extension_approved": True})
    do(engine, iid, "handle", EXTEND)
    do(engine, iid, "handle", REPLY)
    do(engine, iid, "review", {"review_decision": "send_back", "review_comment": "答复不规范"})
    do(engine, iid, "handle", REPLY)
    do(engine, iid, "review", APPROVE | {"apply_exemption": True, "exemption_reason": "不合理诉求"})
    engine.deliver_message(iid, "exemption_decision", {"exemption_approved": True}, INTAKE)
    do(engine, iid, "feedback",
       {"contacted": True, "solved": False, "satisfaction": "不满意", "reopen_requested": True})
    finish(engine, iid)


def path_every_deadline_missed(engine, iid):
    """Late at each step: the urge, reminder, escalation and follow-up branches all run."""
    for step, data in (("verify", VALID), ("screen", SCREEN_OK), ("dispatch", DISPATCH)):
        do(engine, iid, step, data)
    for days, step, data in ((5, "sign_for", {"accepted": True}), (0, "register", REGISTER), (30, "handle", REPLY),
                             (0, "review", APPROVE), (10, "feedback", SATISFIED)):
        engine.clock.advance(days=days)
        fire_all(engine)
        do(engine, iid, step, data)


def path_main(engine, iid):
    to_handling(engine, iid)
    finish(engine, iid)


ALL_PATHS = (path_invalid, path_every_deadline_missed, path_return, path_return_rejected_and_reassigned,
             path_extensions_review_exemption_reopen, path_main)
