"""Realistic sample tickets at several stages, with fictional callers, for `jiesu demo`."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from datetime import timedelta
from typing import Any

from sqlalchemy import select

from engine.models import TaskRecord, Ticket
from engine.privacy import Actor
from engine.service import Engine

DEMO_ACTOR = Actor("demo", frozenset({"admin"}))

VALID = {"is_valid": True, "contact_verified": True}
REGISTER = {"handler_name": "刘建国", "handling_plan": "当日联系诉求人并到现场核实，协调物业和相关部门处理。",
            "citizen_contacted": True}
REPLY = {"handle_action": "reply", "handling_result": "已到现场核实并协调处理完毕，已电话告知诉求人处理结果。",
         "evidence": ["现场照片-处理前.jpg", "现场照片-处理后.jpg"]}


def _screen(cat1: str, cat2: str, request_type: str, sla: str, **extra: Any) -> dict[str, Any]:
    return {"category_l1": cat1, "category_l2": cat2, "request_type": request_type, "sla_level": sla,
            "is_responsible": True, **extra}


# (intake fields, steps to drive: (step id or "message:<name>", data))
DEMO_TICKETS: list[tuple[dict[str, Any], list[tuple[str, dict[str, Any]]]]] = [
    ({"ticket_no": "DEMO-2611-0001", "source": "hotline", "caller_name": "王秀兰", "caller_phone": "13800138001",
      "address": "城南街道龙锦苑东五区3号楼", "community": "龙锦苑社区", "content": "楼下烧烤店每晚营业到凌晨两点，油烟和噪音严重影响休息，希望尽快处理。"},
     []),
    ({"ticket_no": "DEMO-2611-0002", "source": "app", "caller_name": "陈志强", "caller_phone": "13800138002",
      "address": "城南街道融泽嘉园8号楼东侧", "community": "融泽嘉园社区", "content": "小区东门路灯连续一周不亮，晚上老人孩子出行不安全。"},
     [("verify", VALID)]),
    ({"ticket_no": "DEMO-2611-0003", "source": "online", "caller_name": "赵丽", "caller_phone": "13800138003",
      "address": "城南街道南环路与昌平路交叉口", "community": "南环里社区", "content": "路口井盖破损下陷，电动车经过容易摔倒，请尽快维修。"},
     [("verify", VALID), ("screen", _screen("城市管理", "市政设施", "求助", "24h", policy_tags=["安全性"]))]),
    ({"ticket_no": "DEMO-2611-0004", "source": "hotline", "caller_name": "孙建华", "caller_phone": "13800138004",
      "address": "城南街道水关新村12号楼2单元", "community": "水关社区", "content": "家中暖气不热，室温只有14度，家里有八十岁老人。"},
     [("verify", VALID), ("screen", _screen("城乡建设", "供暖", "求助", "24h", policy_tags=["老有所养", "宜居性"])),
      ("dispatch", {"lead_unit": "城南街道物业管理科", "assist_units": ["水关社区居委会"]})]),
    ({"ticket_no": "DEMO-2611-0005", "source": "city_direct", "caller_name": "周敏", "caller_phone": "13800138005",
      "address": "城南街道西环里小区", "community": "西环里社区", "content": "小区内私搭乱建的棚子占用消防通道，多次反映无果。"},
     [("verify", VALID), ("screen", _screen("城市管理", "违法建设", "投诉", "7d", policy_tags=["安全性"])),
      ("dispatch", {"lead_unit": "城南街道综合执法队"}), ("sign_for", {"accepted": True}), ("register", REGISTER)]),
    ({"ticket_no": "DEMO-2611-0006", "source": "hotline", "caller_name": "吴刚", "caller_phone": "13800138006",
      "address": "城南街道宁馨苑小区", "community": "宁馨苑社区", "content": "小区垃圾分类桶站长期满溢，气味很大，希望增加清运次数。"},
     [("verify", VALID), ("screen", _screen("城市管理", "环境卫生", "投诉", "7d", policy_tags=["宜居性"])),
      ("dispatch", {"lead_unit": "城南街道城市管理办公室"}), ("sign_for", {"accepted": True}), ("register", REGISTER),
      ("handle", REPLY)]),
    ({"ticket_no": "DEMO-2611-0007", "source": "app", "caller_name": "郑芳", "caller_phone": "13800138007",
      "address": "城南街道龙锦苑东二区幼儿园门口", "community": "龙锦苑社区", "content": "幼儿园门口早晚高峰车辆乱停，孩子上下学很危险。"},
     [("verify", VALID), ("screen", _screen("交通管理", "停车秩序", "建议", "7d", policy_tags=["幼有所育", "安全性"])),
      ("dispatch", {"lead_unit": "城南街道平安建设办公室"}), ("sign_for", {"accepted": True}), ("register", REGISTER),
      ("handle", REPLY), ("review", {"review_decision": "approve"})]),
    ({"ticket_no": "DEMO-2611-0008", "source": "hotline", "caller_name": "冯伟", "caller_phone": "13800138008",
      "address": "城南街道凉水河路15号", "community": "凉水河社区", "content": "咨询老旧小区加装电梯的补贴政策和申请流程。"},
     [("verify", VALID), ("screen", _screen("城乡建设", "老旧小区改造", "咨询", "15d", policy_tags=["老有所养"])),
      ("dispatch", {"lead_unit": "城南街道城市建设办公室"}), ("sign_for", {"accepted": True}), ("register", REGISTER),
      ("handle", REPLY), ("review", {"review_decision": "approve"}),
      ("feedback", {"contacted": True, "solved": True, "satisfaction": "满意", "callback_note": "诉求人对答复满意。"})]),
    ({"ticket_no": "DEMO-2611-0009", "source": "online", "caller_name": "褚红", "caller_phone": "13800138009",
      "address": "海淀区中关村大街1号", "content": "反映海淀区某商场停车收费过高。"},
     [("verify", VALID), ("screen", {"category_l1": "市场监管", "request_type": "投诉", "sla_level": "7d",
                                     "is_responsible": False, "return_reason": "事发地点在海淀区，不属于本街道辖区。",
                                     "return_evidence": "地址核实截图：海淀区中关村大街1号"})]),
    ({"ticket_no": "DEMO-2611-0010", "source": "hotline", "caller_name": "卫强", "caller_phone": "13800138010",
      "address": "城南街道", "content": "重复来电，内容与上一工单一致。"},
     [("verify", {"is_valid": False, "invalid_reason": "duplicate", "contact_verified": True,
                  "verify_note": "与 DEMO-2611-0001 内容相同。"})]),
    ({"ticket_no": "DEMO-2611-0011", "source": "district_forward", "caller_name": "蒋丽娟", "caller_phone": "13800138011",
      "address": "城南街道昌平路188号底商", "community": "南环里社区", "content": "底商装修施工周末早上七点就开始电钻作业，严重扰民。"},
     [("verify", VALID), ("screen", _screen("城市管理", "噪音污染", "投诉", "7d", policy_tags=["宜居性"])),
      ("dispatch", {"lead_unit": "城南街道综合执法队"}),
      ("sign_for", {"accepted": False, "sign_reject_reason": "施工许可由区住建委管理，建议改派。"})]),
    ({"ticket_no": "DEMO-2611-0012", "source": "hotline", "caller_name": "沈静", "caller_phone": "13800138012",
      "address": "城南街道水关新村5号楼", "community": "水关社区", "content": "楼道内堆放大量杂物，存在消防隐患。"},
     [("verify", VALID), ("screen", _screen("城市管理", "消防安全", "投诉", "7d", policy_tags=["安全性"])),
      ("dispatch", {"lead_unit": "水关社区居委会"}), ("sign_for", {"accepted": True}), ("register", REGISTER),
      ("handle", {"handle_action": "extend", "extension_days": 2, "extension_reason": "需协调物业和业主共同清理。"})]),
]


DEMO_PASSWORD = "jiesu-demo"  # noqa: S105 - printed for the demo; never used outside it
# (username, display name, roles, handling unit); unit users see only their unit's demo tickets.
DEMO_USERS = (("shouli", "受理员王丽", ["intake"], None), ("paidan", "派单员张强", ["dispatcher"], None),
              ("chengban", "执法队刘建国", ["unit"], "城南街道综合执法队"),
              ("wuye", "物业管理科李红", ["unit"], "城南街道物业管理科"),
              ("liucheng", "流程管理员陈静", ["process_owner"], None),
              ("shenji", "审计员周明", ["auditor"], None), ("fenxi", "分析员孙悦", ["analyst"], None),
              ("zhiban", "值班员何平", ["duty_officer"], None),
              ("admin", "系统管理员", ["admin"], None))


def seed_users(engine: Engine) -> list[str]:
    """Create the demo accounts that do not exist yet; return their usernames."""
    created = []
    for username, name, roles, unit in DEMO_USERS:
        if engine.users.get(username) is None:
            engine.users.add(username, name, roles, DEMO_PASSWORD, DEMO_ACTOR, unit)
            created.append(username)
    return created


def seed(engine: Engine, progress: Callable[[Iterable[Any]], Iterable[Any]] = iter) -> int:
    """Intake every demo ticket and drive it to its stage; return how many were new."""
    created = 0
    now = engine.clock()
    for index, (fields, steps) in enumerate(progress(DEMO_TICKETS)):
        if _exists(engine, fields["ticket_no"]):
            continue
        received = (now - timedelta(hours=3 * (len(DEMO_TICKETS) - index))).isoformat()
        result = engine.intake({**fields, "received_at": received}, DEMO_ACTOR)
        created += 1
        for step, data in steps:
            engine.complete_task(_open_task_id(engine, result.instance_id, step), data, DEMO_ACTOR)
    return created


def _exists(engine: Engine, ticket_no: str) -> bool:
    with engine.db.read() as session:
        return session.scalar(select(Ticket.id).where(Ticket.ticket_no == ticket_no)) is not None


def _open_task_id(engine: Engine, instance_id: int, step: str) -> str:
    with engine.db.read() as session:
        return session.scalar(select(TaskRecord.id).where(
            TaskRecord.instance_id == instance_id, TaskRecord.bpmn_id == step, TaskRecord.state == "open"))
