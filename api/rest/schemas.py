"""marshmallow schemas that describe the JSON API in its OpenAPI spec."""

from __future__ import annotations

from marshmallow import fields

from forms import FormRegistry
from forms.validation import ChineseSchema as Schema
from forms.validation import length, one_of, schema_for, value_range

# The intake body is the intake form itself: one definition serves the engine, the page and the spec.
IntakeSchema = type(schema_for(FormRegistry.from_dir().get("intake")))


class ErrorSchema(Schema):
    code = fields.String(required=True, metadata={"description": "stable machine-readable code"})
    message = fields.String(required=True, metadata={"description": "message for staff, in Chinese"})
    errors = fields.Dict(keys=fields.String(), values=fields.List(fields.String()))


class IntakeResultSchema(Schema):
    ticket_id = fields.Integer()
    ticket_no = fields.String()
    instance_id = fields.Integer()
    created = fields.Boolean()
    open_tasks = fields.List(fields.String(), metadata={"description": "工单当前待办任务的编号"})


class TaskSchema(Schema):
    id = fields.String()
    instance_id = fields.Integer()
    instance_version = fields.Integer()
    ticket_id = fields.Integer(allow_none=True)
    ticket_no = fields.String(allow_none=True)
    kind = fields.String(metadata={"description": "user: a form to fill; message: waiting for a decision"})
    step = fields.String()
    title = fields.String()
    role = fields.String(allow_none=True)
    form_key = fields.String(allow_none=True)
    state = fields.String()
    assignee = fields.String(allow_none=True)
    due_at = fields.AwareDateTime(allow_none=True)
    created_at = fields.AwareDateTime()
    ended_at = fields.AwareDateTime(allow_none=True)
    ended_by = fields.String(allow_none=True)


class TimelineEntrySchema(Schema):
    id = fields.Integer()
    at = fields.AwareDateTime()
    actor = fields.String()
    event = fields.String()
    task_id = fields.String(allow_none=True)
    data = fields.Dict()


class TicketSummarySchema(Schema):
    id = fields.Integer()
    ticket_no = fields.String()
    source = fields.String()
    received_at = fields.AwareDateTime()
    address = fields.String()
    community = fields.String(allow_none=True)
    category_l1 = fields.String(allow_none=True)
    request_type = fields.String(allow_none=True)
    sla_level = fields.String(allow_none=True)
    status = fields.String()
    current_step = fields.String(allow_none=True)
    lead_unit = fields.String(allow_none=True)
    content = fields.String()


class TicketSchema(TicketSummarySchema):
    caller_name = fields.String(allow_none=True, metadata={"description": "masked unless the role needs it"})
    caller_phone = fields.String(allow_none=True, metadata={"description": "masked unless the role needs it"})
    personal_data_masked = fields.Boolean()
    category_l2 = fields.String(allow_none=True)
    category_l3 = fields.String(allow_none=True)
    tags = fields.List(fields.String())
    policy_tags = fields.List(fields.String())
    monthly_theme = fields.String(allow_none=True)
    assist_units = fields.List(fields.String())
    contacted = fields.Boolean(allow_none=True)
    solved = fields.Boolean(allow_none=True)
    satisfaction = fields.String(allow_none=True)
    exempted = fields.Boolean(allow_none=True)
    closed_at = fields.AwareDateTime(allow_none=True)
    created_at = fields.AwareDateTime()
    updated_at = fields.AwareDateTime()
    tasks = fields.List(fields.Nested(TaskSchema))
    timeline = fields.List(fields.Nested(TimelineEntrySchema))


class TicketQuerySchema(Schema):
    status = fields.String(validate=one_of(["open", "closed", "invalid", "returned", "cancelled"]))
    q = fields.String(validate=length(100), metadata={"description": "ticket number, address or content"})
    lead_unit = fields.String(validate=length(100))
    limit = fields.Integer(load_default=50, validate=value_range(1, 200))
    offset = fields.Integer(load_default=0, validate=value_range(0, 1_000_000))


class TaskQuerySchema(Schema):
    mine = fields.Boolean(load_default=False, metadata={"description": "only tasks I have claimed"})
    role = fields.String(validate=length(30), metadata={"description": "one of my roles"})
    limit = fields.Integer(load_default=100, validate=value_range(1, 500))


class FormFieldSchema(Schema):
    name = fields.String()
    label = fields.String()
    type = fields.String()
    required = fields.Boolean()
    choices = fields.List(fields.List(fields.String()))
    required_if = fields.Dict()
    default = fields.Raw()
    max_length = fields.Integer()
    max_items = fields.Integer()
    min = fields.Integer()
    max = fields.Integer()
    pattern = fields.String()


class FormSchema(Schema):
    key = fields.String()
    title = fields.String()
    description = fields.String()
    fields_ = fields.List(fields.Nested(FormFieldSchema), data_key="fields", attribute="fields")


class TaskDetailSchema(TaskSchema):
    form = fields.Nested(FormSchema, allow_none=True)
    ticket = fields.Nested(TicketSchema, allow_none=True)


class CompleteSchema(Schema):
    data = fields.Dict(required=True, metadata={"description": "the task form's fields"})
    version = fields.Integer(required=True, validate=value_range(1, 2**31),
                             metadata={"description": "the instance version you read; 409 if it changed"})


class MessageSchema(Schema):
    payload = fields.Dict(required=True)
    version = fields.Integer(validate=value_range(1, 2**31))


class CancelSchema(Schema):
    reason = fields.String(required=True, validate=length(500, 1))
    version = fields.Integer(validate=value_range(1, 2**31))


class CommandResultSchema(Schema):
    instance_id = fields.Integer()
    version = fields.Integer()
    status = fields.String()
    ticket_id = fields.Integer(allow_none=True)
    open_tasks = fields.List(fields.String())


class DeploymentSchema(Schema):
    id = fields.Integer()
    process_id = fields.String()
    version = fields.Integer()
    content_hash = fields.String()
    filename = fields.String()
    deployed_at = fields.AwareDateTime()
    deployed_by = fields.String()


class DeployResultSchema(Schema):
    deployment_id = fields.Integer()
    process_id = fields.String()
    version = fields.Integer()
    created = fields.Boolean()


class DeployFileSchema(Schema):
    file = fields.Raw(required=True, metadata={"type": "string", "format": "binary"})


class TokenRequestSchema(Schema):
    username = fields.String(required=True, validate=length(50, 1))
    password = fields.String(required=True, validate=length(200, 1))


class TokenSchema(Schema):
    token = fields.String()
    username = fields.String()
    roles = fields.List(fields.String())
