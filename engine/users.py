"""Staff accounts: hashed passwords, roles, API tokens and a login limit shared by every node."""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from sqlalchemy import Connection, bindparam, func, insert, select, update

from engine import audit
from engine.audit import AuditEntry
from engine.clock import Clock
from engine.db import Database
from engine.errors import EngineError, InvalidData, NotFound
from engine.models import ApiToken, LoginAttempt, User
from engine.privacy import Actor
from engine.roles import ROLES
from engine.rules import Rules

_SCRYPT = {"n": 2**14, "r": 8, "p": 1}
_USERS, _TOKENS = User.__table__, ApiToken.__table__
# Every API request runs this: built once, plain columns.
_ACCOUNT_BY_TOKEN = (select(_USERS.c.username, _USERS.c.display_name, _USERS.c.roles, _USERS.c.active, _USERS.c.unit)
                     .join(_TOKENS, _TOKENS.c.user_id == _USERS.c.id)
                     .where(_TOKENS.c.token_hash == bindparam("b_hash"), _TOKENS.c.expires_at > bindparam("b_now"),
                            _USERS.c.active))


class LoginRefused(EngineError):
    code = "unauthorized"


class TooManyAttempts(EngineError):
    code = "too_many_attempts"


@dataclass(frozen=True)
class Account:
    username: str
    display_name: str
    roles: tuple[str, ...]
    active: bool
    unit: str | None = None

    @property
    def actor(self) -> Actor:
        return Actor(self.username, frozenset(self.roles), self.unit)


def hash_password(password: str) -> str:
    salt = secrets.token_bytes(16)
    digest = hashlib.scrypt(password.encode("utf-8"), salt=salt, **_SCRYPT)
    return f"scrypt${salt.hex()}${digest.hex()}"


def check_password(password: str, stored: str) -> bool:
    _, salt, digest = stored.split("$")
    candidate = hashlib.scrypt(password.encode("utf-8"), salt=bytes.fromhex(salt), **_SCRYPT)
    return hmac.compare_digest(candidate.hex(), digest)


# Compared against when the user does not exist, so timing does not reveal which usernames exist.
_DUMMY_HASH = hash_password(secrets.token_hex(8))


class Users:
    """User administration and authentication; every change and every login attempt is audited."""

    def __init__(self, db: Database, rules: Rules, clock: Clock):
        self.db, self.rules, self.clock = db, rules, clock

    def add(self, username: str, display_name: str, roles: list[str], password: str, actor: Actor,
            unit: str | None = None) -> Account:
        _check_new_user(username, roles, password)
        unit = _clean_unit(unit)
        now = self.clock()
        with self.db.transaction() as conn:
            if conn.scalar(select(User.id).where(User.username == username)) is not None:
                raise InvalidData(f"用户 {username} 已存在", {"username": ["用户名已被使用。"]})
            conn.execute(insert(User).values(username=username, display_name=display_name, roles=sorted(roles),
                                             password_hash=hash_password(password), active=True, created_at=now,
                                             unit=unit))
            audit.append(conn, [AuditEntry("user.created", actor.name,
                                           data={"username": username, "roles": sorted(roles), "unit": unit})], now)
        return Account(username, display_name, tuple(sorted(roles)), True, unit)

    def set_roles(self, username: str, roles: list[str], actor: Actor) -> None:
        _check_roles(roles)
        now = self.clock()
        with self.db.transaction() as conn:
            before = _account(conn, username).roles
            conn.execute(update(User).where(User.username == username).values(roles=sorted(roles)))
            audit.append(conn, [AuditEntry("user.roles_changed", actor.name, data={
                "username": username, "before": list(before), "after": sorted(roles)})], now)

    def set_unit(self, username: str, unit: str | None, actor: Actor) -> str | None:
        """Set the user's handling unit (returned as stored); none makes a unit user see every unit again."""
        unit = _clean_unit(unit)
        now = self.clock()
        with self.db.transaction() as conn:
            before = _account(conn, username).unit
            conn.execute(update(User).where(User.username == username).values(unit=unit))
            audit.append(conn, [AuditEntry("user.updated", actor.name, data={
                "username": username, "field": "unit", "before": before, "after": unit})], now)
        return unit

    def login(self, username: str, password: str, remote_addr: str) -> Account:
        """Check a password under the shared attempt limit; success and failure are both audited."""
        if "\x00" in username + password + remote_addr:
            raise LoginRefused("用户名或密码错误")
        now = self.clock()
        limits = self.rules.at(now.date())["login"]
        with self.db.transaction() as conn:
            if _recent_failures(conn, username, remote_addr, now - timedelta(minutes=limits["window_minutes"])) \
                    >= limits["max_failures"]:
                raise TooManyAttempts(f"登录失败次数过多，请 {limits['window_minutes']} 分钟后再试")
            row = conn.execute(select(User).where(User.username == username)).first()
            ok = check_password(password, row.password_hash if row else _DUMMY_HASH) and bool(row and row.active)
            conn.execute(insert(LoginAttempt).values(username=username[:50], remote_addr=remote_addr[:64], at=now,
                                                     success=ok))
            event = "login.succeeded" if ok else "login.failed"
            audit.append(conn, [AuditEntry(event, username[:100], data={"remote_addr": remote_addr})], now)
        if not ok:
            raise LoginRefused("用户名或密码错误")
        return _row_account(row)

    def logout(self, username: str) -> None:
        now = self.clock()
        with self.db.transaction() as conn:
            audit.append(conn, [AuditEntry("logout", username)], now)

    def issue_token(self, account: Account) -> str:
        now = self.clock()
        token = secrets.token_urlsafe(32)
        days = self.rules.at(now.date())["login"]["token_days"]
        with self.db.transaction() as conn:
            user_id = conn.scalar(select(User.id).where(User.username == account.username))
            conn.execute(insert(ApiToken).values(token_hash=_token_hash(token), user_id=user_id, created_at=now,
                                                 expires_at=now + timedelta(days=days)))
            audit.append(conn, [AuditEntry("user.token_issued", account.username, data={"days": days})], now)
        return token

    def account_for_token(self, token: str) -> Account | None:
        with self.db.engine.connect() as conn:
            row = conn.execute(_ACCOUNT_BY_TOKEN, {"b_hash": _token_hash(token), "b_now": self.clock()}).first()
        return _row_account(row) if row else None

    def get(self, username: str) -> Account | None:
        with self.db.engine.connect() as conn:
            try:
                return _account(conn, username)
            except NotFound:
                return None


def _account(conn: Connection, username: str) -> Account:
    row = conn.execute(select(User).where(User.username == username)).first()
    if row is None:
        raise NotFound(f"用户 {username} 不存在")
    return _row_account(row)


def _row_account(row: Any) -> Account:
    return Account(row.username, row.display_name, tuple(row.roles), row.active, row.unit)


def _clean_unit(unit: str | None) -> str | None:
    """Blank means no unit; stripped, as the dispatch page strips the lead_unit it is compared with."""
    unit = (unit or "").strip()
    if len(unit) > 100 or "\x00" in unit:
        raise InvalidData("单位名称无效", {"unit": ["单位名称最长100个字符。"]})
    return unit or None


def _recent_failures(conn: Connection, username: str, remote_addr: str, since: Any) -> int:
    failed = select(func.count()).select_from(LoginAttempt).where(LoginAttempt.at >= since, ~LoginAttempt.success)
    by_user = conn.scalar(failed.where(LoginAttempt.username == username))
    by_addr = conn.scalar(failed.where(LoginAttempt.remote_addr == remote_addr))
    return max(by_user, by_addr)


def _token_hash(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def _check_roles(roles: list[str]) -> None:
    unknown = [r for r in roles if r not in ROLES]
    if unknown or not roles:
        problem = f"未知角色：{'、'.join(unknown)}" if unknown else "至少需要一个角色。"
        raise InvalidData("角色无效", {"roles": [problem]})


def _check_new_user(username: str, roles: list[str], password: str) -> None:
    if not username or len(username) > 50 or not username.replace("_", "").replace(".", "").isalnum():
        raise InvalidData("用户名无效", {"username": ["用户名只能包含字母、数字、点和下划线，最长50个字符。"]})
    if len(password) < 8:
        raise InvalidData("密码太短", {"password": ["密码至少8位。"]})
    _check_roles(roles)
