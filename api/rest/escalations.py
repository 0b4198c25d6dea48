"""Group complaints and public-opinion incidents over the API: incidents, flags, evidence, duty roster."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import orjson
from flask import Response, request
from flask.views import MethodView
from marshmallow import fields

from api.context import current_actor, engine, require_roles
from api.rest.blueprint import Blueprint
from api.web.escalation_pages import VIEW_ROLES, evidence_limit
from engine.errors import InvalidData
from forms.validation import ChineseSchema, length, value_range

blp = Blueprint("escalations", __name__, description="群诉、舆情事件、值班表")


class IncidentQuerySchema(ChineseSchema):
    open = fields.Boolean(load_default=False, metadata={"description": "only incidents still being handled"})


class FlagSchema(ChineseSchema):
    reason = fields.String(required=True, validate=length(500, 1))


class FlagResultSchema(ChineseSchema):
    incident_id = fields.Integer()


class EvidenceFileSchema(ChineseSchema):
    file = fields.Raw(required=True, metadata={"type": "string", "format": "binary"})


class DutySchema(ChineseSchema):
    day = fields.Date(required=True)
    shift = fields.String(required=True, validate=length(20, 1))
    level = fields.Integer(load_default=1, validate=value_range(1, 9))
    person = fields.String(required=True, validate=length(50, 1))
    email = fields.Email(allow_none=True, validate=length(200))


class RosterQuerySchema(ChineseSchema):
    start = fields.Date(data_key="from")
    days = fields.Integer(load_default=14, validate=value_range(1, 92))


def _json(data: Any, status: int = 200) -> Response:
    return Response(orjson.dumps(data, default=str), status=status, mimetype="application/json")


@blp.route("/incidents")
class Incidents(MethodView):
    @blp.arguments(IncidentQuerySchema, location="query", error_status_code=400)
    @blp.response(200, description="事件列表，最新在前")
    @require_roles(*VIEW_ROLES)
    def get(self, args: dict[str, Any]) -> Any:
        """Group complaints and public-opinion incidents."""
        return _json(engine().escalations.incidents(args["open"]))


@blp.route("/incidents/<int(max=2147483647):incident_id>")
class IncidentDetail(MethodView):
    @blp.response(200, description="事件、关联工单、提醒记录、接报确认、处置步骤、佐证材料与时间线")
    @blp.alt_response(404, description="事件不存在")
    @require_roles(*VIEW_ROLES, "unit")
    def get(self, incident_id: int) -> Any:
        """One incident with everything the escalation page shows."""
        return _json(engine().escalations.incident(incident_id))


@blp.route("/incidents/<int(max=2147483647):incident_id>/evidence")
class IncidentEvidence(MethodView):
    @blp.response(201, description="已保存的佐证材料")
    @require_roles("duty_officer", "unit")
    def post(self, incident_id: int) -> Any:
        """Upload a photo or document for the on-site check (multipart field `file`)."""
        request.max_content_length = evidence_limit()
        upload = request.files.get("file")
        if upload is None or not upload.filename:
            raise InvalidData("请上传文件", {"file": ["此项为必填项。"]})
        return _json(engine().escalations.add_evidence(incident_id, upload.filename, upload.read(),
                                                       current_actor()), 201)


@blp.route("/tickets/<string:ticket_no>/flag")
class FlagTicket(MethodView):
    @blp.arguments(FlagSchema, error_status_code=400)
    @blp.response(201, FlagResultSchema)
    @require_roles(*VIEW_ROLES)
    def post(self, args: dict[str, Any], ticket_no: str) -> Any:
        """Flag a public-opinion incident from a ticket: the escalation starts and the duty officer is alerted."""
        return {"incident_id": engine().escalations.flag(ticket_no, args["reason"], current_actor())}


@blp.route("/roster")
class Roster(MethodView):
    @blp.arguments(RosterQuerySchema, location="query", error_status_code=400)
    @blp.response(200, description="值班安排")
    @require_roles(*VIEW_ROLES)
    def get(self, args: dict[str, Any]) -> Any:
        """Who is on duty, from a Beijing date (default today) for some days."""
        first = args.get("start") or engine().clock().date()
        return _json(engine().escalations.roster(first, first + timedelta(days=args["days"] - 1)))

    @blp.arguments(DutySchema, error_status_code=400)
    @blp.response(201, description="新值班安排的编号")
    @require_roles("duty_officer")
    def post(self, args: dict[str, Any]) -> Any:
        """Put someone on the roster for a shift at a level (1 值班员, 2 值班领导, 3 分管领导)."""
        shift_id = engine().escalations.add_duty(args["day"], args["shift"], args["level"], args["person"],
                                                 args.get("email"), current_actor())
        return _json({"id": shift_id}, 201)


@blp.route("/roster/<int(max=2147483647):shift_id>")
class RosterEntry(MethodView):
    @blp.response(204)
    @require_roles("duty_officer")
    def delete(self, shift_id: int) -> None:
        """Take an entry off the roster."""
        engine().escalations.remove_duty(shift_id, current_actor())
