"""Draws a deployed BPMN diagram as SVG from its diagram interchange, marking finished and current steps."""

from __future__ import annotations

from dataclasses import dataclass

from lxml import etree
from markupsafe import Markup

NS = {
    "bpmn": "http://www.omg.org/spec/BPMN/20100524/MODEL",
    "bpmndi": "http://www.omg.org/spec/BPMN/20100524/DI",
    "dc": "http://www.omg.org/spec/DD/20100524/DC",
    "di": "http://www.omg.org/spec/DD/20100524/DI",
}
_EVENTS = ("startEvent", "endEvent", "intermediateCatchEvent", "intermediateThrowEvent", "boundaryEvent")
_POOLS = ("participant", "lane")


@dataclass(frozen=True)
class Shape:
    element: str
    kind: str
    name: str
    x: float
    y: float
    w: float
    h: float


def render(bpmn_xml: str, finished: set[str], current: set[str]) -> Markup:
    """SVG markup; element names come from the file and are escaped like any other text."""
    root = etree.fromstring(bpmn_xml.encode("utf-8"), parser=etree.XMLParser(resolve_entities=False, no_network=True))
    kinds = {el.get("id"): (etree.QName(el).localname, el.get("name") or "") for el in root.iter()
             if isinstance(el.tag, str) and el.get("id")}
    shapes = [_shape(node, kinds) for node in root.iterfind(".//bpmndi:BPMNShape", NS)]
    shapes = [s for s in shapes if s is not None]
    if not shapes:
        return Markup('<p class="muted">此流程图没有图形信息。</p>')
    width = max(s.x + s.w for s in shapes) + 20
    height = max(s.y + s.h for s in shapes) + 40
    parts = [_pool(s) for s in shapes if s.kind in _POOLS]
    parts += [_edge(node) for node in root.iterfind(".//bpmndi:BPMNEdge", NS)]
    parts += [_node(s, _state(s.element, finished, current)) for s in shapes if s.kind not in _POOLS]
    return Markup('<svg class="bpmn" viewBox="0 0 {w:.0f} {h:.0f}" xmlns="http://www.w3.org/2000/svg" role="img" '
                  'aria-label="流程图"><defs><marker id="arrow" viewBox="0 0 10 10" refX="10" refY="5" '
                  'markerWidth="7" markerHeight="7" orient="auto-start-reverse"><path d="M0,0 L10,5 L0,10 z"/>'
                  "</marker></defs>{body}</svg>").format(w=width, h=height, body=Markup("").join(parts))


def _shape(node: etree._Element, kinds: dict[str, tuple[str, str]]) -> Shape | None:
    bounds = node.find("dc:Bounds", NS)
    element = node.get("bpmnElement")
    if bounds is None or element not in kinds:
        return None
    kind, name = kinds[element]
    return Shape(element, kind, name, *(float(bounds.get(k)) for k in ("x", "y", "width", "height")))


def _state(element: str, finished: set[str], current: set[str]) -> str:
    return "current" if element in current else "finished" if element in finished else "idle"


def _pool(s: Shape) -> Markup:
    return Markup('<g class="pool"><rect x="{x}" y="{y}" width="{w}" height="{h}"/>'
                  '<text x="{tx}" y="{ty}" transform="rotate(-90 {tx} {ty})" text-anchor="middle">{name}</text></g>'
                  ).format(x=s.x, y=s.y, w=s.w, h=s.h, tx=s.x + 15, ty=s.y + s.h / 2, name=s.name)


def _edge(node: etree._Element) -> Markup:
    points = " ".join(f"{float(p.get('x')):.0f},{float(p.get('y')):.0f}" for p in node.iterfind("di:waypoint", NS))
    return Markup('<polyline class="flow" points="{}" marker-end="url(#arrow)"/>').format(points)


def _node(s: Shape, state: str) -> Markup:
    cx, cy = s.x + s.w / 2, s.y + s.h / 2
    if s.kind in _EVENTS:
        outline = Markup('<circle cx="{}" cy="{}" r="{}"/>').format(cx, cy, s.w / 2)
        label_y = s.y + s.h + 14
    elif s.kind.endswith("Gateway"):
        outline = Markup('<polygon points="{},{} {},{} {},{} {},{}"/>').format(
            cx, s.y, s.x + s.w, cy, cx, s.y + s.h, s.x, cy)
        label_y = s.y - 6
    else:
        outline = Markup('<rect x="{}" y="{}" width="{}" height="{}" rx="8"/>').format(s.x, s.y, s.w, s.h)
        label_y = cy + 5
    return Markup('<g class="node {kind} {state}" data-element="{id}">{outline}'
                  '<text x="{cx}" y="{ly}" text-anchor="middle">{name}</text></g>').format(
        kind=s.kind, state=state, id=s.element, outline=outline, cx=cx, ly=label_y, name=s.name)
