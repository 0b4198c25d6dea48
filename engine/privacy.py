"""Who may see callers' personal data, and how it looks to everyone else."""

from __future__ import annotations

from dataclasses import dataclass

PERSONAL_FIELDS = ("caller_name", "caller_phone")
UNIT_ROLE = "unit"  # 承办单位: the role whose work and callers' data a handling unit's user is scoped to


@dataclass(frozen=True)
class Actor:
    """Who issues a command or reads data: a user name, the roles they hold and their handling unit."""

    name: str
    roles: frozenset[str]
    unit: str | None = None

    def can_act_as(self, role: str | None) -> bool:
        return role is None or role in self.roles or self.is_superuser

    @property
    def is_superuser(self) -> bool:
        return bool({"admin", "system"} & self.roles)

    @property
    def scoped_unit(self) -> str | None:
        """The handling unit whose tickets alone this actor works on as 承办单位.

        None for a unit user without a unit (a sub-district coordinator of every unit) and for
        admins: both see every unit's work, as before units were recorded.
        """
        if self.unit and UNIT_ROLE in self.roles and not self.is_superuser:
            return self.unit
        return None

    def may_handle(self, role: str | None, lead_unit: str | None) -> bool:
        """Whether a task of `role` on a ticket dispatched to `lead_unit` is within this actor's unit."""
        return role != UNIT_ROLE or self.scoped_unit is None or lead_unit == self.scoped_unit


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


def sees_personal_data(actor: Actor, allowed_roles: list[str], lead_unit: str | None) -> bool:
    """Whether `actor` sees callers' data of a ticket dispatched to `lead_unit`.

    A scoped unit user holds the 承办单位 grant only for their own unit's tickets; another role
    that grants it (e.g. intake) still does.
    """
    granting = set(allowed_roles) & actor.roles
    if not actor.may_handle(UNIT_ROLE, lead_unit):
        granting.discard(UNIT_ROLE)
    return bool(granting)
