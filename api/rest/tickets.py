"""Tickets: intake (idempotent by ticket number), search, one ticket with its timeline."""

from __future__ import annotations

from typing import Any

from flask import request
from flask.views import MethodView

from api.context import current_actor, engine, require_roles
from api.rest.blueprint import Blueprint
from api.rest.output import json_rows
from api.rest.schemas import IntakeResultSchema, IntakeSchema, TicketQuerySchema, TicketSchema, TicketSummarySchema
from engine import queries

blp = Blueprint("tickets", __name__, description="工单：登记、查询、时间线")


@blp.route("/tickets")
class Tickets(MethodView):
    @blp.arguments(TicketQuerySchema, location="query", error_status_code=400)
    @blp.response(200, TicketSummarySchema(many=True))
    @blp.alt_response(401, description="未登录")
    @require_roles()
    def get(self, args: dict[str, Any]) -> Any:
        """List and filter tickets (no personal data in the list)."""
        with engine().db.read() as session:
            return json_rows(queries.search_tickets(session, queries.TicketFilter(**args)))

    @blp.arguments(IntakeSchema, error_status_code=400)
    @blp.response(201, IntakeResultSchema)
    @blp.alt_response(200, schema=IntakeResultSchema, description="同一工单编号、相同内容：返回已有工单")
    @blp.alt_response(409, description="工单编号已存在且内容不同")
    @require_roles("intake")
    def post(self, fields: dict[str, Any]) -> Any:
        """Receive a ticket; the same number with the same content returns the existing one (200)."""
        # The engine validates again with the same form; it takes the request as sent, not re-serialised.
        result = engine().intake(request.get_json(), current_actor())
        return result, 201 if result.created else 200


@blp.route("/tickets/<string:ticket_no>")
class TicketDetail(MethodView):
    @blp.response(200, TicketSchema)
    @blp.alt_response(404, description="工单不存在")
    @require_roles()
    def get(self, ticket_no: str) -> Any:
        """One ticket with its tasks and timeline; callers' data is masked unless the role needs it."""
        return engine().view_ticket(ticket_no, current_actor())
