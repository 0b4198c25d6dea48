"""Bearer tokens for API clients, issued for a username and password under the login limit."""

from __future__ import annotations

from typing import Any

from flask import request
from flask.views import MethodView

from api.context import engine
from api.rest.blueprint import Blueprint
from api.rest.schemas import TokenRequestSchema, TokenSchema

blp = Blueprint("auth", __name__, description="登录令牌")


@blp.route("/auth/token")
class Token(MethodView):
    @blp.arguments(TokenRequestSchema, error_status_code=400)
    @blp.response(201, TokenSchema)
    @blp.alt_response(401, description="用户名或密码错误")
    @blp.alt_response(429, description="失败次数过多")
    @blp.doc(security=[])
    def post(self, args: dict[str, Any]) -> Any:
        """Exchange a username and password for a bearer token."""
        users = engine().users
        account = users.login(args["username"], args["password"], request.remote_addr or "-")
        return {"token": users.issue_token(account), "username": account.username, "roles": list(account.roles)}
