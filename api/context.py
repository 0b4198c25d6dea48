"""Per-request access to the engine and to who is asking."""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any

from flask import current_app, g, request, session

from engine.errors import EngineError, Forbidden
from engine.privacy import Actor
from engine.service import Engine
from engine.users import Account


class Unauthenticated(EngineError):
    code = "unauthorized"


def engine() -> Engine:
    return current_app.extensions["jiesu_engine"]


def current_account() -> Account | None:
    """The user behind a bearer token (API) or the session cookie (pages), cached for the request."""
    if "account" not in g:
        g.account = _from_token() or _from_session()
    return g.account


def current_actor() -> Actor:
    account = current_account()
    if account is None or not account.active:
        raise Unauthenticated("请先登录")
    return account.actor


def require_roles(*roles: str) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """Refuse (403) unless the caller holds one of `roles`; no roles means any signed-in user."""

    def decorate(view: Callable[..., Any]) -> Callable[..., Any]:
        @wraps(view)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            actor = current_actor()
            if roles and not (set(roles) | {"admin"}) & actor.roles:
                raise Forbidden("您的角色无权执行此操作")
            return view(*args, **kwargs)

        return wrapper

    return decorate


def _from_token() -> Account | None:
    header = request.headers.get("Authorization", "")
    if not header.startswith("Bearer "):
        return None
    return engine().users.account_for_token(header.removeprefix("Bearer ").strip())


def _from_session() -> Account | None:
    username = session.get("username")
    return engine().users.get(username) if username else None
