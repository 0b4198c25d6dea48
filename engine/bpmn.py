"""Parses and validates BPMN files before anything is stored or run."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from lxml import etree
from SpiffWorkflow.bpmn.parser.BpmnParser import BpmnValidator
from SpiffWorkflow.bpmn.parser.ValidationException import ValidationException
from SpiffWorkflow.bpmn.specs.bpmn_process_spec import BpmnProcessSpec

from engine.errors import DeploymentRejected
from engine.roles import role_for_lane
from engine.scripting import UnsafeScript, check_source
from engine.timer_events import ClockedParser
from forms import FormRegistry

NS = {
    "bpmn": "http://www.omg.org/spec/BPMN/20100524/MODEL",
    "camunda": "http://camunda.org/schema/1.0/bpmn",
}
FORM_KEY = f"{{{NS['camunda']}}}formKey"
# Camunda's attribute for a task's due date; here a Python expression over the task data.
DUE_DATE = f"{{{NS['camunda']}}}dueDate"
# (xpath, compile mode) of every piece of Python a diagram can carry
_CODE_PATHS = (
    (".//bpmn:script", "exec"),
    (".//bpmn:conditionExpression", "eval"),
    (".//bpmn:timeDuration", "eval"),
    (".//bpmn:timeDate", "eval"),
    (".//bpmn:timeCycle", "eval"),
)
_VALIDATOR = BpmnValidator()


@dataclass
class ParsedProcess:
    """A validated process: the Spiff spec plus what the engine needs to know of each element."""

    process_id: str
    name: str
    spec: BpmnProcessSpec
    subprocess_specs: dict[str, BpmnProcessSpec]
    elements: dict[str, dict[str, Any]]

    @property
    def form_keys(self) -> set[str]:
        return {e["form"] for e in self.elements.values() if e.get("form")}


def parse_process(xml: bytes, filename: str, forms: FormRegistry) -> ParsedProcess:
    """Parse, schema-check and inspect one BPMN file; raise DeploymentRejected naming the element."""
    root = _parse_xml(xml, filename)
    process = _executable_process(root, filename)
    _check_code(process)
    elements = _describe_elements(process, forms)
    parser = ClockedParser(validator=_VALIDATOR)
    try:
        parser.add_bpmn_xml(etree.ElementTree(root), filename=filename)
        spec = parser.get_spec(process.get("id"))
        subprocess_specs = parser.get_subprocess_specs(process.get("id"))
    except ValidationException as exc:
        raise DeploymentRejected(_validation_message(exc)) from exc
    return ParsedProcess(process.get("id"), process.get("name") or process.get("id"),
                         spec, subprocess_specs, elements)


def _parse_xml(xml: bytes, filename: str) -> etree._Element:
    try:
        root = etree.fromstring(xml, parser=etree.XMLParser(resolve_entities=False, no_network=True))
    except etree.XMLSyntaxError as exc:
        raise DeploymentRejected(f"{filename} 不是合法的 XML：{exc.msg}（第 {exc.lineno} 行）") from exc
    try:
        _VALIDATOR.validate(root, filename)
    except ValidationException as exc:
        raise DeploymentRejected(_validation_message(exc)) from exc
    return root


def _executable_process(root: etree._Element, filename: str) -> etree._Element:
    processes = [p for p in root.findall("bpmn:process", NS) if p.get("isExecutable") == "true"]
    if len(processes) != 1:
        raise DeploymentRejected(
            f"{filename} 必须恰好包含一个可执行流程（isExecutable=\"true\"），实际有 {len(processes)} 个")
    return processes[0]


def _check_code(process: etree._Element) -> None:
    for path, mode in _CODE_PATHS:
        for node in process.iterfind(path, NS):
            try:
                check_source((node.text or "").strip(), mode)
            except UnsafeScript as exc:
                raise DeploymentRejected(f"元素 {_element_name(node)}的脚本被拒绝：{exc}") from exc


def _element_name(node: etree._Element) -> str:
    """The id (and name) of the flow element that holds `node`."""
    while node is not None and node.get("id") is None:
        node = node.getparent()
    if node is None:
        return "（未知元素）"
    name = node.get("name")
    return f"{node.get('id')}（{name}）" if name else node.get("id")


def _lanes(process: etree._Element) -> dict[str, str]:
    return {ref.text.strip(): lane.get("name") or lane.get("id")
            for lane in process.iterfind(".//bpmn:lane", NS)
            for ref in lane.iterfind("bpmn:flowNodeRef", NS)}


def _describe_elements(process: etree._Element, forms: FormRegistry) -> dict[str, dict[str, Any]]:
    lanes = _lanes(process)
    messages = {m.get("id"): m.get("name") for m in process.getroottree().getroot().iterfind("bpmn:message", NS)}
    elements: dict[str, dict[str, Any]] = {}
    for node in process.iter():
        element_id = node.get("id")
        if element_id is None or not isinstance(node.tag, str):
            continue
        tag = etree.QName(node).localname
        info = {"type": tag, "name": node.get("name") or element_id, "lane": lanes.get(element_id)}
        if tag == "userTask":
            info |= _user_task(node, lanes.get(element_id), forms)
        elif _catches_message(node, tag):
            info |= _message_catch(node, lanes.get(element_id), messages, forms)
        elements[element_id] = info
    return elements


def _catches_message(node: etree._Element, tag: str) -> bool:
    return tag == "intermediateCatchEvent" and node.find(".//bpmn:messageEventDefinition", NS) is not None


def _user_task(node: etree._Element, lane: str | None, forms: FormRegistry) -> dict[str, Any]:
    form = node.get(FORM_KEY)
    if not form:
        raise DeploymentRejected(f"用户任务 {_element_name(node)}没有指定表单（camunda:formKey）")
    if form not in forms:
        raise DeploymentRejected(f"用户任务 {_element_name(node)}引用了不存在的表单 {form}")
    info = {"kind": "user", "form": form, "role": _role(node, lane)}
    due = (node.get(DUE_DATE) or "").strip()
    if due:
        try:
            check_source(due, "eval")
        except UnsafeScript as exc:
            raise DeploymentRejected(f"用户任务 {_element_name(node)}的期限表达式被拒绝：{exc}") from exc
        info["due"] = due
    return info


def _message_catch(node: etree._Element, lane: str | None, messages: dict[str, str],
                   forms: FormRegistry) -> dict[str, Any]:
    ref = node.find(".//bpmn:messageEventDefinition", NS).get("messageRef")
    message = messages.get(ref)
    if message is None:
        raise DeploymentRejected(f"消息事件 {_element_name(node)}引用了不存在的消息 {ref}")
    if message not in forms:
        raise DeploymentRejected(f"消息事件 {_element_name(node)}的消息 {message} 没有同名表单")
    return {"kind": "message", "form": message, "message": message, "role": _role(node, lane)}


def _role(node: etree._Element, lane: str | None) -> str:
    role = role_for_lane(lane)
    if role is None:
        raise DeploymentRejected(f"元素 {_element_name(node)}所在泳道 {lane or '（无）'} 不对应任何角色")
    return role


def _validation_message(exc: ValidationException) -> str:
    where = f"（元素 {exc.id}）" if getattr(exc, "id", None) else ""
    line = f"第 {exc.line_number} 行" if getattr(exc, "line_number", None) else ""
    return f"BPMN 校验失败{where}{line}：{exc.args[0] if exc.args else exc}"
