"""Latency of the task list and of task completion under 20 concurrent clients, 10,000 open tickets.

    python bench/api.py [--tickets 10000] [--clients 20] [--seconds 10] [--workers N] [--threads N]
                        [--seed-dir DIR]

The app runs under gunicorn (gthread, with the repository's gunicorn.conf.py) on SQLite, as one
sub-district would run it; wrk (Debian's package) holds 20 concurrent connections on loopback: one
phase lists tasks, one completes a different open task per request. Each phase prints its latency
percentiles, its rate, the server's CPU per request (all gunicorn processes, user + system) and the
load average before it started (above ~1 something else is running: measure again).

Seeding 10,000 tickets takes minutes; `--seed-dir DIR` seeds once into DIR and later runs start
from a copy of it, so the completion phase always finds every task open.

Processes and threads default to gunicorn.conf.py, the production settings, which says why they
are what they are (one process, one thread).
"""

from __future__ import annotations

import argparse
import os
import re
import runpy
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
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
from tests.helpers import ticket_fields  # noqa: E402

ACTOR = Actor("bench", frozenset({"admin"}))
WRK_THREADS = 2
PASSWORD = "bench-password-1"
DB_FILE, TASK_FILE = "bench.sqlite3", "tasks.txt"
TICKS = os.sysconf("SC_CLK_TCK")
SERVER = runpy.run_path(str(ROOT / "gunicorn.conf.py"))
Wrk = tuple[dict[str, float], float, int, str]  # percentiles, req/s, requests, raw output


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


def seeded(folder: Path, tickets: int) -> None:
    """A database of `tickets` open tickets in `folder` with its task file; kept if already there."""
    marker = folder / f"{DB_FILE}.{tickets}"
    if marker.exists():
        return
    folder.mkdir(parents=True, exist_ok=True)
    for stale in folder.glob(f"{DB_FILE}*"):
        stale.unlink()
    tasks = seed(f"sqlite:///{folder / DB_FILE}", tickets)
    (folder / TASK_FILE).write_text("".join(f"{t['id']} {t['instance_version']}\n" for t in tasks), encoding="utf-8")
    marker.touch()


def start_server(url: str, threads: int, workers: int) -> tuple[subprocess.Popen, str]:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    env = {**os.environ, "JIESU_DATABASE_URL": url, "JIESU_SECRET_KEY": "bench"}
    server = subprocess.Popen(
        [sys.executable, "-m", "gunicorn", "-c", str(ROOT / "gunicorn.conf.py"), "-w", str(workers), "--threads",
         str(threads), "-b", f"127.0.0.1:{port}", "--log-level", "warning", "api:create_app()"], cwd=ROOT, env=env)
    base = f"http://127.0.0.1:{port}"
    for _ in range(300):
        try:
            requests.get(f"{base}/login", timeout=5)
            return server, base
        except requests.RequestException:
            time.sleep(0.2)
    server.kill()
    raise SystemExit("server did not start")


def server_cpu_seconds(pid: int) -> float:
    """User + system CPU of the gunicorn master and its workers (Linux /proc)."""
    children = Path(f"/proc/{pid}/task/{pid}/children").read_text().split()
    total = 0
    for process in (pid, *map(int, children)):
        fields = Path(f"/proc/{process}/stat").read_text().rsplit(")", 1)[1].split()
        total += int(fields[11]) + int(fields[12])  # utime, stime
    return total / TICKS


def wrk(base: str, path: str, args: argparse.Namespace, headers: dict[str, str], env: dict[str, str] | None = None,
        script: Path | None = None) -> Wrk:
    """Run wrk (C, so the load costs the server little CPU); return percentiles, req/s, requests, raw output."""
    command = ["wrk", "-t", str(WRK_THREADS), "-c", str(args.clients), "-d", f"{args.seconds}s", "--latency",
               *(arg for name, value in headers.items() for arg in ("-H", f"{name}: {value}"))]
    if script:
        command += ["-s", str(script)]
    output = subprocess.run([*command, base + path], capture_output=True, text=True, check=True,
                            env={**os.environ, **(env or {})}).stdout
    cuts = {m.group(1): _millis(m.group(2)) for m in re.finditer(r"^\s+(50|90|99)%\s+([\d.]+\w+)", output, re.M)}
    rate = float(re.search(r"Requests/sec:\s+([\d.]+)", output).group(1))
    count = int(re.search(r"(\d+) requests in", output).group(1))
    return cuts, rate, count, output


def _millis(text: str) -> float:
    number, unit = re.fullmatch(r"([\d.]+)(us|ms|s|m)", text).groups()
    return float(number) * {"us": 0.001, "ms": 1, "s": 1000, "m": 60_000}[unit]


def phase(name: str, server: subprocess.Popen, run: Callable[[], Wrk]) -> str:
    """Run one wrk phase and print its figures; returns wrk's output."""
    load = os.getloadavg()[0]
    cpu = server_cpu_seconds(server.pid)
    cuts, rate, count, output = run()
    per_request = (server_cpu_seconds(server.pid) - cpu) * 1000 / max(count, 1)
    print(f"{name:<16} p50={cuts['50']:7.1f} ms  p90={cuts['90']:7.1f} ms  p99={cuts['99']:7.1f} ms  "
          f"{rate:6.0f} req/s  server CPU {per_request:.2f} ms/request  (load before {load:.2f})", flush=True)
    return output


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tickets", type=int, default=10_000)
    parser.add_argument("--clients", type=int, default=20, help="concurrent connections")
    parser.add_argument("--seconds", type=int, default=10, help="per phase")
    parser.add_argument("--workers", type=int, default=SERVER["workers"], help="gunicorn processes")
    parser.add_argument("--threads", type=int, default=SERVER["threads"], help="gunicorn threads per process")
    parser.add_argument("--seed-dir", type=Path, help="seed once into this folder and reuse it on later runs")
    args = parser.parse_args()
    if shutil.which("wrk") is None:
        raise SystemExit("bench/api.py needs wrk: apt-get install wrk")
    with tempfile.TemporaryDirectory() as folder:
        work = Path(folder)
        source = args.seed_dir or work / "seed"
        seeded(source, args.tickets)
        shutil.copy(source / DB_FILE, work / DB_FILE)
        task_file = source / TASK_FILE
        server, base = start_server(f"sqlite:///{work / DB_FILE}", args.threads, args.workers)
        try:
            token = requests.post(f"{base}/api/v1/auth/token", json={"username": "shouli", "password": PASSWORD},
                                  timeout=10).json()["token"]
            headers = {"Authorization": f"Bearer {token}"}
            assert len(requests.get(f"{base}/api/v1/tasks?limit=50", headers=headers, timeout=30).json()) == 50
            phase("task list", server, lambda: wrk(base, "/api/v1/tasks?limit=50", args, headers))
            env = {"JIESU_BENCH_TASKS": str(task_file), "JIESU_BENCH_THREADS": str(WRK_THREADS)}
            script = Path(__file__).with_name("complete_tasks.lua")
            output = phase("task completion", server, lambda: wrk(base, "/", args, headers, env, script))
            print(output.strip().splitlines()[-1])  # failed_requests=N: every completion must succeed
        finally:
            server.terminate()
            server.wait(timeout=30)
    print(f"tickets={args.tickets} clients={args.clients} workers={args.workers} threads={args.threads}; "
          "targets: task list p99 < 50 ms, completion p99 < 100 ms")


if __name__ == "__main__":
    main()
