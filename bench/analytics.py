"""Analysis at city scale: import a 12345 sheet of N tickets, the three rates for a month and a year,
and a monthly Word report end to end (target: under 10 seconds at one million tickets).

    python bench/analytics.py [--count 1000000] [--database-url URL]

Tickets are spread evenly over 13 assessment months (2025-11 to 2026-11) with realistic categories,
places and content, so a month holds about N/13 tickets. Without --database-url a fresh SQLite file is used.
"""

from __future__ import annotations

import argparse
import csv
import random
import sys
import tempfile
import time
from datetime import datetime, timedelta
from pathlib import Path

from tqdm import tqdm

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from engine.analysis import periods
from engine.analysis.rates import period_rates
from engine.analysis.reports import build_report
from engine.analysis.ticket_import import COLUMNS, import_tickets
from engine.db import Database
from engine.privacy import Actor
from engine.service import Engine

ACTOR = Actor("bench", frozenset({"admin"}))
START = datetime(2025, 10, 19)
DAYS = 396  # 2025-10-19 .. 2026-11-18: assessment months 2025-11 .. 2026-11
CATEGORIES = [("城市管理", "环境卫生", "垃圾清运"), ("城市管理", "市政设施", "路灯"), ("住房", "物业管理", "电梯"),
              ("住房", "供暖", "暖气不热"), ("交通", "停车管理", "乱停车"), ("市场监管", "食品安全", "餐饮"),
              ("生态环境", "噪声污染", "施工噪音"), ("社会保障", "养老服务", "养老驿站"), ("教育", "学前教育", "入园"),
              ("卫生健康", "社区医疗", "挂号")]
PROBLEMS = ["电梯经常故障停运", "垃圾桶满溢无人清运", "暖气温度不达标", "夜间施工噪音扰民", "小区门口车辆乱停",
            "路灯不亮影响出行", "餐馆油烟扰民", "养老驿站服务时间短", "幼儿园入园难", "社区医院挂号难"]
COMMUNITIES = ["龙锦苑社区", "融泽嘉园社区", "南环里社区", "北七家村", "平西府村", "天通苑东社区", "东小口村",
               "回龙观社区", "霍营社区", "史各庄村"]
UNITS = ["城南街道城管科", "城南街道综合执法队", "城南街道社区建设办", "城南街道平安建设办", "城南街道民生保障办"]
SATISFACTION = ["满意"] * 80 + ["基本满意"] * 10 + ["不满意"] * 7 + ["未评价"] * 3
TAGS = ["", "", "宜居性", "安全性", "老有所养", "便利性、宜居性", "住有所居", "学有所教"]


def write_sheet(path: Path, count: int) -> None:
    rng = random.Random(12345)
    with path.open("w", encoding="utf-8-sig", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(COLUMNS)
        for n in tqdm(range(count), desc="生成工单表", unit="行", mininterval=1):
            received = START + timedelta(seconds=rng.randrange(DAYS * 86400))
            cat = rng.choice(CATEGORIES)
            community = rng.choice(COMMUNITIES)
            satisfaction = rng.choice(SATISFACTION)
            rated = satisfaction != "未评价"
            writer.writerow([
                f"BJ{n:010d}", f"{received:%Y-%m-%d %H:%M:%S}", "张三", f"139{n % 100000000:08d}",
                f"城南街道{community}{rng.randint(1, 30)}号楼", *cat,
                f"{community}{rng.randint(1, 30)}号楼{rng.choice(PROBLEMS)}，{rng.choice(PROBLEMS)}，希望尽快解决。",
                rng.choice(UNITS), "已协调处理并回复诉求人", f"{received + timedelta(days=7):%Y-%m-%d %H:%M:%S}",
                "12345热线", "是" if rated else "否", "是" if rng.random() < 0.97 else "否",
                "是" if satisfaction in ("满意", "基本满意") or rng.random() < 0.3 else "否", satisfaction,
                "否" if rng.random() < 0.02 else "是", rng.choice(TAGS),
                "老旧小区加装电梯" if rng.random() < 0.05 else "", community,
                "协办" if rng.random() < 0.05 else "主办"])


def timed(label: str, func):
    start = time.perf_counter()
    result = func()
    elapsed = time.perf_counter() - start
    print(f"{label}: {elapsed:.2f} s", flush=True)
    return result, elapsed


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--count", type=int, default=1_000_000)
    parser.add_argument("--database-url", default=None, help="default: a fresh SQLite file")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        folder = Path(folder)
        db = Database(args.database_url or f"sqlite:///{folder / 'bench.sqlite3'}")
        db.migrate()
        engine = Engine(db)
        sheet = folder / "tickets.csv"
        write_sheet(sheet, args.count)
        progress = lambda items, what: tqdm(items, desc=what, mininterval=1)  # noqa: E731
        result, import_s = timed(f"import {args.count} tickets", lambda: import_tickets(engine, sheet, ACTOR, progress))
        print(f"import rate: {result.created / import_s:,.0f} tickets/s")
        month, year = periods.parse("2026-11", engine.rules), periods.parse("2026", engine.rules)
        table, _ = timed("three rates, month 2026-11", lambda: period_rates(engine, month))
        print(f"  month: {table.overall.counts.tickets} tickets, composite {table.overall.composite:.2f}")
        timed("three rates, month by category", lambda: period_rates(engine, month, "category"))
        table, _ = timed("three rates, year 2026", lambda: period_rates(engine, year))
        print(f"  year: {table.overall.counts.tickets} tickets, composite {table.overall.composite:.2f}")
        report, report_s = timed("monthly report end to end", lambda: build_report(engine, "monthly", month))
        print(f"monthly report: {len(report) / 1024:.0f} KiB, {report_s:.2f} s (target < 10 s)")
        db.dispose()


if __name__ == "__main__":
    main()
