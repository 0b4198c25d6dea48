"""Full ticket lifecycles per second: the durable engine on SQLite vs SpiffWorkflow in memory.

    python bench/lifecycle.py [--count N]

Both sides run the main path of workflows/ticket.bpmn (intake to close) with the same data.
The engine commits every command (SQLite WAL, synchronous=NORMAL by default) before it returns.
The last line is `ratio=X.XX`: engine time per lifecycle over in-memory time per lifecycle.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

from SpiffWorkflow.util.task import TaskState
from sqlalchemy import select
from tqdm import tqdm

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from engine import state
from engine.bpmn import ParsedProcess
from engine.db import Database
from engine.factory import workflows_dir
from engine.models import TaskRecord
from engine.privacy import Actor
from engine.service import Engine
from forms import validate
from tests.helpers import APPROVE, DISPATCH, REGISTER, REPLY, SATISFIED, SCREEN_OK, VALID, ticket_fields

STEPS = (("verify", VALID), ("screen", SCREEN_OK), ("dispatch", DISPATCH), ("sign_for", {"accepted": True}),
         ("register", REGISTER), ("handle", REPLY), ("review", APPROVE), ("feedback", SATISFIED))
ACTOR = Actor("bench", frozenset({"admin"}))
# Untimed lifecycles first on both sides: one-off start-up (jieba's dictionary, SQLAlchemy's statement
# cache, imports) is not per-lifecycle work.
WARM_UP = 5


def run_engine(count: int, folder: Path) -> float:
    db = Database(f"sqlite:///{folder / 'bench.sqlite3'}")
    db.migrate()
    engine = Engine(db)
    engine.deploy_dir(workflows_dir(), ACTOR)
    for n in range(WARM_UP):
        _engine_lifecycle(engine, f"W-{n:06d}")
    started = time.perf_counter()
    for n in tqdm(range(count), desc="engine (SQLite)", unit="lifecycle"):
        _engine_lifecycle(engine, f"B-{n:06d}")
    elapsed = time.perf_counter() - started
    db.dispose()
    return elapsed


def _engine_lifecycle(engine: Engine, ticket_no: str) -> None:
    ticket = engine.intake(ticket_fields(ticket_no), ACTOR)
    open_tasks = _only_open_task(engine, ticket.instance_id)
    for _step, data in STEPS:
        # A client knows the next task from the command's answer; no extra query.
        result = engine.complete_task(open_tasks[0], data, ACTOR)
        open_tasks = result.open_tasks
    assert result.status == "completed"


def _only_open_task(engine: Engine, instance_id: int) -> tuple[str, ...]:
    with engine.db.read() as session:
        return tuple(session.scalars(select(TaskRecord.id).where(
            TaskRecord.instance_id == instance_id, TaskRecord.state == "open")))


def run_in_memory(count: int, folder: Path) -> float:
    db = Database(f"sqlite:///{folder / 'spec.sqlite3'}")
    db.migrate()
    engine = Engine(db)
    result = next(r for r in engine.deploy_dir(workflows_dir(), ACTOR) if r.process_id == "ticket")
    with db.read() as session:
        process = engine.deployments.get(session.connection(), result.deployment_id).process
    db.dispose()
    # Same complete data the engine's form validation produces, prepared outside the timed loop.
    steps = [(step, validate(engine.forms.get(step), data)) for step, data in STEPS]
    start_data = {"source": "hotline", "sla_level": "7d", "max_extensions": 3,
                  "extension_count": 0, "extension_days_total": 0, "reopen_count": 0,
                  "sla_started_at": None, "sla_deadline": None}
    for n in range(WARM_UP):
        _memory_lifecycle(process, start_data | {"ticket_no": f"W-{n:06d}"}, steps)
    started = time.perf_counter()
    for n in tqdm(range(count), desc="SpiffWorkflow in memory", unit="lifecycle"):
        _memory_lifecycle(process, start_data | {"ticket_no": f"B-{n:06d}"}, steps)
    return time.perf_counter() - started


def _memory_lifecycle(process: ParsedProcess, start_data: dict, steps: list[tuple[str, dict]]) -> None:
    workflow = state.new_workflow(process)
    for task in workflow.get_tasks(state=TaskState.READY):
        task.set_data(**start_data)
    workflow.do_engine_steps()
    for step, data in steps:
        task = next(t for t in workflow.get_tasks(state=TaskState.READY, manual=True) if t.task_spec.name == step)
        task.set_data(**data)
        task.run()
        workflow.do_engine_steps()
    assert workflow.completed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--count", type=int, default=300)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        memory = run_in_memory(args.count, Path(folder))
        durable = run_engine(args.count, Path(folder))
    commands = args.count * (len(STEPS) + 1)
    print(f"lifecycles: {args.count}, commands per lifecycle: {len(STEPS) + 1}")
    print(f"SpiffWorkflow in memory: {args.count / memory:8.1f} lifecycles/s")
    print(f"engine on SQLite:        {args.count / durable:8.1f} lifecycles/s "
          f"({commands / durable:.0f} committed commands/s)")
    print(f"ratio={durable / memory:.2f}")


if __name__ == "__main__":
    main()
