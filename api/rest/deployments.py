"""Deployments: process owners upload BPMN files; everyone who may see them lists versions."""

from __future__ import annotations

from typing import Any

from flask.views import MethodView

from api.context import current_actor, engine, require_roles
from api.rest.blueprint import Blueprint
from api.rest.schemas import DeployFileSchema, DeploymentSchema, DeployResultSchema
from engine import queries
from engine.errors import InvalidData

blp = Blueprint("deployments", __name__, description="流程部署与版本")


@blp.route("/deployments")
class Deployments(MethodView):
    @blp.response(200, DeploymentSchema(many=True))
    @require_roles("process_owner", "auditor")
    def get(self) -> Any:
        """Every deployed version, newest first."""
        with engine().db.read() as session:
            return queries.deployments(session)

    @blp.arguments(DeployFileSchema, location="files", error_status_code=400)
    @blp.response(201, DeployResultSchema)
    @blp.alt_response(200, schema=DeployResultSchema, description="内容未变，未生成新版本")
    @blp.alt_response(400, description="BPMN 文件有误（解析器的说明）")
    @require_roles("process_owner")
    def post(self, files: dict[str, Any]) -> Any:
        """Deploy a BPMN file (multipart field `file`)."""
        upload = files["file"]
        if not hasattr(upload, "read"):
            raise InvalidData("请上传 BPMN 文件", {"file": ["此项为必填项。"]})
        result = engine().deploy(upload.read(), upload.filename or "upload.bpmn", current_actor())
        return result, 201 if result.created else 200
