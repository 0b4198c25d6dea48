"""Who may see callers' personal data, and how it looks to everyone else."""

from __future__ import annotations

from dataclasses import dataclass

PERSONAL_FIELDS = ("caller_name", "caller_phone")


@dataclass(frozen=True)
class Actor:
    """Who issues a command or reads data: a user name and the roles they hold."""

    name: str
    roles: frozenset[str]

    def can_act_as(self, role: str | None) -> bool:
        return role is None or role in self.roles or bool({"admin", "system"} & self.roles)


SYSTEM = Actor("system", frozenset({"system"}))


def mask_phone(phone: str | None) -> str | None:
    """Keep the first 3 and last 4 digits, as Chinese service desks print them."""
    if not phone:
        return phone
    digits = phone.replace(" ", "").replace("-", "")
    if len(digits) <= 7:
        return "*" * len(digits)
    return f"{digits[:3]}{'*' * (len(digits) - 7)}{digits[-4:]}"


def mask_name(name: str | None) -> str | None:
    if not name:
        return name
    return name[0] + "*" * (len(name) - 1) if len(name) > 1 else "*"


def sees_personal_data(actor: Actor, allowed_roles: list[str]) -> bool:
    return bool(set(allowed_roles) & actor.roles)
