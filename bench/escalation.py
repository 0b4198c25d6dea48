"""What group detection adds to intake, and how fast the alert outbox drains to a real SMTP server.

    python bench/escalation.py [--tickets 1000] [--database-url URL]

--database-url must name a scratch database: the benchmark drops its tables first (default: a
temporary SQLite file). Tickets are generated at 40 places x 6 issues from many callers over two
weeks, so groups form and grow while the signature table fills; every ticket goes through
`Engine.intake`, detection included. Then the alerts the groups raised are sent to an aiosmtpd
server on 127.0.0.1.
"""

from __future__ import annotations

import argparse
import random
import statistics
import sys
import tempfile
import time
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

from sqlalchemy import func, select, text

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from engine.db import Database
from engine.escalation.detection import signature
from engine.escalation.terms import _tokenizer, _vocabulary
from engine.factory import workflows_dir
from engine.models import Alert, Base, ComplaintGroup
from engine.privacy import Actor
from engine.rules import RuleEntry, Rules
from engine.service import Engine
from tests.alert_servers import SmtpServer

ADMIN = Actor("bench", frozenset({"admin"}))
COMPOUNDS = [f"{a}{b}苑{c}区" for a in "龙天华金融宏佳宁" for b in "锦通泽腾" for c in "东西"][:40]
ISSUES = ["楼下烧烤店油烟扰民", "暖气不热，室温太低", "夜间施工噪音很大", "小区停水没有通知", "电梯故障困人",
          "垃圾没人清运臭味很大"]


def _ticket(number: int, rng: random.Random, start: datetime) -> dict:
    return {"ticket_no": f"B-{number}", "source": "hotline",
            "received_at": (start + timedelta(minutes=20 * number)).isoformat(),
            "caller_phone": f"139{rng.randrange(10**8):08d}", "address": f"城南街道{rng.choice(COMPOUNDS)}"
            f"{rng.randrange(1, 30)}号楼", "content": rng.choice(ISSUES)}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--tickets", type=int, default=1000)
    parser.add_argument("--database-url", default=None)
    args = parser.parse_args()
    url = args.database_url or f"sqlite:///{tempfile.mkdtemp()}/bench.sqlite3"
    db = Database(url)
    with db.engine.begin() as conn:
        Base.metadata.drop_all(conn)
        conn.execute(text("DROP TABLE IF EXISTS alembic_version"))
    db.migrate()
    smtp = SmtpServer().start()
    rules = Rules([*Rules.load().entries, RuleEntry(date(2020, 1, 2), {"alerts": {"channels": {"email": {
        "kind": "email", "host": "127.0.0.1", "port": smtp.port, "sender": "bench@jiesu.test"}}}})])
    start = datetime(2026, 11, 1, tzinfo=UTC)
    now = [start + timedelta(minutes=20 * args.tickets + 60)]
    engine = Engine(db, rules=rules, clock=lambda: now[0])
    engine.deploy_dir(workflows_dir(), ADMIN)
    for day in range(20):
        for shift in ("白班", "夜班"):
            engine.escalations.add_duty(date(2026, 11, 1) + timedelta(days=day), shift, 1, "值班员", "d@jiesu.test",
                                        ADMIN)
    values = rules.at(start.date())

    began = time.perf_counter()
    _tokenizer(tuple(sorted(set(_vocabulary(values)))))
    print(f"jieba tokenizer with the configured words: {1000 * (time.perf_counter() - began):.0f} ms once per process")
    rng = random.Random(7)
    tickets = [_ticket(n, rng, start) for n in range(args.tickets)]
    began = time.perf_counter()
    for fields in tickets[:500]:
        signature(fields | {"content": fields["content"] + str(rng.random())}, values)
    print(f"signature (place, issue, caller hash): {1e6 * (time.perf_counter() - began) / 500:.0f} µs per ticket")

    times = []
    for fields in tickets:
        began = time.perf_counter()
        engine.intake(fields, ADMIN)
        times.append(time.perf_counter() - began)
    with db.engine.connect() as conn:
        groups = conn.scalar(select(func.count()).select_from(ComplaintGroup))
        pending = conn.scalar(select(func.count()).select_from(Alert))
    times.sort()
    print(f"intake with detection, {args.tickets} tickets: mean {1000 * statistics.mean(times):.1f} ms, "
          f"p95 {1000 * times[int(0.95 * len(times))]:.1f} ms; {groups} groups, {pending} alerts queued")

    began = time.perf_counter()
    sent = 0
    while (result := engine.escalations.deliver_alerts()).sent:
        sent += result.sent
    elapsed = time.perf_counter() - began
    print(f"outbox: {sent} alerts sent over SMTP in {elapsed:.2f} s ({sent / elapsed:.0f} per second)")
    smtp.stop()
    db.dispose()


if __name__ == "__main__":
    main()
