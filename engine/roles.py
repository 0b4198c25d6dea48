"""Staff roles and the BPMN lanes that assign tasks to them."""

from __future__ import annotations

ROLES: dict[str, str] = {
    "intake": "受理员",
    "dispatcher": "派单员",
    "unit": "承办单位",
    "duty_officer": "值班员",
    "process_owner": "流程管理员",
    "analyst": "分析员",
    "auditor": "审计员",
    "admin": "系统管理员",
}

# Process owners name lanes in Chinese in the modeler; the role code is accepted too.
_LANE_ALIASES = {label: code for code, label in ROLES.items()} | {code: code for code in ROLES}


def role_for_lane(lane: str | None) -> str | None:
    """The role code a lane stands for, or None when the lane names no known role."""
    if lane is None:
        return None
    return _LANE_ALIASES.get(lane.strip())


def role_label(code: str) -> str:
    return ROLES.get(code, code)
