"""Tasks: my list, one task with its form, complete, claim, release; messages and cancellation."""

from __future__ import annotations

from typing import Any

from flask.views import MethodView

from api.context import current_actor, engine, require_roles
from api.rest.blueprint import Blueprint
from api.rest.output import json_rows
from api.rest.schemas import (
    CancelSchema,
    CommandResultSchema,
    CompleteSchema,
    MessageSchema,
    TaskDetailSchema,
    TaskQuerySchema,
    TaskSchema,
)
from engine import queries
from engine.errors import Forbidden

blp = Blueprint("tasks", __name__, description="待办任务：办理、认领、退回认领")


@blp.route("/tasks")
class Tasks(MethodView):
    @blp.arguments(TaskQuerySchema, location="query", error_status_code=400)
    @blp.response(200, TaskSchema(many=True))
    @require_roles()
    def get(self, args: dict[str, Any]) -> Any:
        """Open tasks of my roles (or only those I claimed), earliest deadline first."""
        actor = current_actor()
        roles = None if "admin" in actor.roles else actor.roles
        if args.get("role"):
            if roles is not None and args["role"] not in roles:
                raise Forbidden("只能查看本人角色的任务")
            roles = frozenset({args["role"]})
        flt = queries.TaskFilter(roles=roles, assignee=actor.name if args["mine"] else None, unit=actor.scoped_unit,
                                 limit=args["limit"])
        with engine().db.read() as session:
            return json_rows(queries.open_tasks(session, flt))


@blp.route("/tasks/<string:task_id>")
class TaskDetail(MethodView):
    @blp.response(200, TaskDetailSchema)
    @blp.alt_response(403, description="任务不属于您的角色")
    @blp.alt_response(404, description="任务不存在")
    @require_roles()
    def get(self, task_id: str) -> Any:
        """One task with its form definition and its ticket."""
        return engine().view_task(task_id, current_actor())


@blp.route("/tasks/<string:task_id>/complete")
class CompleteTask(MethodView):
    @blp.arguments(CompleteSchema, error_status_code=400)
    @blp.response(200, CommandResultSchema)
    @blp.alt_response(400, description="表单数据有误（按字段列出）")
    @blp.alt_response(409, description="版本已变化或任务已结束")
    @require_roles()
    def post(self, args: dict[str, Any], task_id: str) -> Any:
        """Complete a task with its form data and the instance version you read."""
        return engine().complete_task(task_id, args["data"], current_actor(), args["version"])


@blp.route("/tasks/<string:task_id>/claim")
class ClaimTask(MethodView):
    @blp.response(204)
    @blp.alt_response(409, description="已被他人认领")
    @require_roles()
    def post(self, task_id: str) -> None:
        """Claim a task so colleagues see it is being worked on."""
        engine().claim(task_id, current_actor())


@blp.route("/tasks/<string:task_id>/release")
class ReleaseTask(MethodView):
    @blp.response(204)
    @require_roles()
    def post(self, task_id: str) -> None:
        """Give a claimed task back to the role's queue."""
        engine().claim(task_id, current_actor(), release=True)


@blp.route("/instances/<int(max=2147483647):instance_id>/messages/<string:name>")
class DeliverMessage(MethodView):
    @blp.arguments(MessageSchema, error_status_code=400)
    @blp.response(200, CommandResultSchema)
    @blp.alt_response(409, description="流程没有在等待此消息")
    @require_roles()
    def post(self, args: dict[str, Any], instance_id: int, name: str) -> Any:
        """Deliver a decision the instance waits for (e.g. return_decision, exemption_decision)."""
        return engine().deliver_message(instance_id, name, args["payload"], current_actor(), args.get("version"))


@blp.route("/instances/<int(max=2147483647):instance_id>/cancel")
class CancelInstance(MethodView):
    @blp.arguments(CancelSchema, error_status_code=400)
    @blp.response(200, CommandResultSchema)
    @require_roles("intake")
    def post(self, args: dict[str, Any], instance_id: int) -> Any:
        """Cancel a running instance with a reason."""
        return engine().cancel(instance_id, args["reason"], current_actor(), args.get("version"))
