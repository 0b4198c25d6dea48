"""Latency of the task list and of task completion under 20 concurrent clients, 10,000 open tickets.

    python bench/api.py [--tickets 10000] [--clients 20] [--requests 50]

The app runs under gunicorn (one process, threads) on SQLite, as `jiesu serve` would in production
for one sub-district; clients are threads with their own HTTP connections on loopback.
"""

from __future__ import annotations

import argparse
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import requests
from sqlalchemy import select
from tqdm import tqdm

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from engine.db import Database  # noqa: E402
from engine.factory import workflows_dir  # noqa: E402
from engine.models import TaskRecord  # noqa: E402
from engine.privacy import Actor  # noqa: E402
from engine.service import Engine  # noqa: E402
from tests.helpers import VALID, ticket_fields  # noqa: E402

ACTOR = Actor("bench", frozenset({"admin"}))
PASSWORD = "bench-password-1"


def seed(url: str, tickets: int) -> list[dict]:
    """Open tickets, each waiting at verification; returns their tasks (id, instance version)."""
    db = Database(url)
    db.migrate()
    engine = Engine(db)
    engine.deploy_dir(workflows_dir(), ACTOR)
    engine.users.add("shouli", "受理员", ["intake"], PASSWORD, ACTOR)
    tasks = []
    for n in tqdm(range(tickets), desc="open tickets", unit="ticket"):
        result = engine.intake(ticket_fields(f"BENCH-{n:06d}", received_at="2026-11-20T08:00:00+08:00"), ACTOR)
        with db.read() as session:
            task_id = session.scalar(select(TaskRecord.id).where(TaskRecord.instance_id == result.instance_id))
        tasks.append({"id": task_id, "instance_version": 1})
    db.dispose()
    return tasks


def start_server(url: str, clients: int) -> tuple[subprocess.Popen, str]:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    env = {**os.environ, "JIESU_DATABASE_URL": url, "JIESU_SECRET_KEY": "bench"}
    server = subprocess.Popen(
        [sys.executable, "-m", "gunicorn", "-w", "1", "--threads", str(clients), "-b", f"127.0.0.1:{port}",
         "--log-level", "warning", "api:create_app()"], cwd=ROOT, env=env)
    base = f"http://127.0.0.1:{port}"
    for _ in range(300):
        try:
            requests.get(f"{base}/login", timeout=5)
            return server, base
        except requests.RequestException:
            time.sleep(0.2)
    server.kill()
    raise SystemExit("server did not start")


def run_clients(clients: int, work: list[list], call) -> list[float]:
    latencies: list[float] = []
    lock = threading.Lock()

    def client(items: list) -> None:
        session = requests.Session()
        mine = []
        for item in items:
            started = time.perf_counter()
            call(session, item)
            mine.append((time.perf_counter() - started) * 1000)
        with lock:
            latencies.extend(mine)

    threads = [threading.Thread(target=client, args=(work[i],)) for i in range(clients)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return latencies


def report(name: str, latencies: list[float], seconds: float) -> None:
    cuts = statistics.quantiles(latencies, n=100)
    print(f"{name:<16} n={len(latencies):5d}  p50={cuts[49]:7.1f} ms  p99={cuts[98]:7.1f} ms  "
          f"max={max(latencies):7.1f} ms  {len(latencies) / seconds:7.0f} req/s")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tickets", type=int, default=10_000)
    parser.add_argument("--clients", type=int, default=20)
    parser.add_argument("--requests", type=int, default=50, help="per client and phase")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        url = f"sqlite:///{Path(folder) / 'bench.sqlite3'}"
        tasks = seed(url, args.tickets)
        server, base = start_server(url, args.clients)
        try:
            token = requests.post(f"{base}/api/v1/auth/token", json={"username": "shouli", "password": PASSWORD},
                                  timeout=10).json()["token"]
            headers = {"Authorization": f"Bearer {token}"}

            def list_tasks(session: requests.Session, _: object) -> None:
                reply = session.get(f"{base}/api/v1/tasks?limit=50", headers=headers, timeout=30)
                assert reply.status_code == 200 and len(reply.json()) == 50

            started = time.perf_counter()
            listing = run_clients(args.clients, [[None] * args.requests] * args.clients, list_tasks)
            report("task list", listing, time.perf_counter() - started)

            needed = args.clients * args.requests
            if needed > len(tasks):
                raise SystemExit("raise --tickets or lower --requests: every completion needs its own task")
            work = [tasks[i:needed:args.clients] for i in range(args.clients)]

            def complete(session: requests.Session, task: dict) -> None:
                reply = session.post(f"{base}/api/v1/tasks/{task['id']}/complete", headers=headers, timeout=30,
                                     json={"data": VALID, "version": task["instance_version"]})
                assert reply.status_code == 200, reply.text

            started = time.perf_counter()
            completion = run_clients(args.clients, work, complete)
            report("task completion", completion, time.perf_counter() - started)
        finally:
            server.terminate()
            server.wait(timeout=30)
    print(f"tickets={args.tickets} clients={args.clients} targets: task list p99 < 50 ms, completion p99 < 100 ms")


if __name__ == "__main__":
    main()
