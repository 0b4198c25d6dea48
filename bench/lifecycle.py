"""Full ticket lifecycles per second: the durable engine on SQLite vs SpiffWorkflow in memory.

    python bench/lifecycle.py [--count N] [--rounds R]

Both sides run the main path of workflows/ticket.bpmn (intake to close) with the same data.
The engine commits every command (SQLite WAL, synchronous=NORMAL by default) before it returns.
Each side first runs a few untimed lifecycles; then, as `jiesu serve`, gunicorn and `jiesu worker`
do after start-up, objects loaded so far are frozen out of garbage collection; then the two sides
take turns in rounds, so that other load on the machine weighs on both alike. The last line is
`ratio=X.XX`: engine time per lifecycle over in-memory time per lifecycle on SpiffWorkflow's own
BpmnWorkflow. The engine runs a subclass with faster task walks (engine/workflow.py); the same
subclass in memory is measured too, so the figures show what storing costs apart from running.
The spread of single rounds' ratios shows how much other load on the machine moved the figures.
JIESU_SQLITE_SYNCHRONOUS=FULL measures fsync on every commit.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

from SpiffWorkflow.bpmn import BpmnWorkflow
from SpiffWorkflow.util.task import TaskState
from tqdm import tqdm

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from engine import state
from engine.db import Database
from engine.factory import workflows_dir
from engine.longlived import freeze_startup_objects
from engine.privacy import Actor
from engine.service import Engine
from engine.workflow import EngineWorkflow
from forms import validate
from tests.helpers import APPROVE, DISPATCH, REGISTER, REPLY, SATISFIED, SCREEN_OK, VALID, ticket_fields

STEPS = (("verify", VALID), ("screen", SCREEN_OK), ("dispatch", DISPATCH), ("sign_for", {"accepted": True}),
         ("register", REGISTER), ("handle", REPLY), ("review", APPROVE), ("feedback", SATISFIED))
ACTOR = Actor("bench", frozenset({"admin"}))
# Untimed lifecycles first on both sides: one-off start-up (jieba's dictionary, SQLAlchemy's statement
# cache, imports) is not per-lifecycle work.
WARM_UP = 5


class EngineSide:
    """The durable engine on a fresh SQLite file, warmed up."""

    def __init__(self, folder: Path):
        self.db = Database(f"sqlite:///{folder / 'bench.sqlite3'}")
        self.db.migrate()
        self.engine = Engine(self.db)
        self.engine.deploy_dir(workflows_dir(), ACTOR)
        self.done = 0
        self.run(WARM_UP)

    def run(self, count: int) -> None:
        for _ in range(count):
            self.done += 1
            self._lifecycle(f"B-{self.done:06d}")

    def _lifecycle(self, ticket_no: str) -> None:
        # A client knows the next task from each command's answer; no extra query.
        open_tasks = self.engine.intake(ticket_fields(ticket_no), ACTOR).open_tasks
        for _step, data in STEPS:
            result = self.engine.complete_task(open_tasks[0], data, ACTOR)
            open_tasks = result.open_tasks
        assert result.status == "completed"


class MemorySide:
    """The same diagram and data on SpiffWorkflow alone, nothing stored, warmed up.

    `workflow_class` is Spiff's BpmnWorkflow (what the ratio is against), or the engine's own, to show
    how much of the engine's time goes to storing rather than to running the workflow.
    """

    def __init__(self, folder: Path, workflow_class: type[BpmnWorkflow]):
        self.workflow_class = workflow_class
        db = Database(f"sqlite:///{folder / f'spec-{workflow_class.__name__}.sqlite3'}")
        db.migrate()
        engine = Engine(db)
        result = next(r for r in engine.deploy_dir(workflows_dir(), ACTOR) if r.process_id == "ticket")
        with db.read() as session:
            self.process = engine.deployments.get(session.connection(), result.deployment_id).process
        db.dispose()
        # The same data the engine's intake and form validation produce, prepared outside the timed loop.
        self.steps = [(step, validate(engine.forms.get(step), data)) for step, data in STEPS]
        self.start_data = engine.ticket_start_data(validate(engine.forms.get("intake"), ticket_fields()))
        self.done = 0
        self.run(WARM_UP)

    def run(self, count: int) -> None:
        for _ in range(count):
            self.done += 1
            self._lifecycle(self.start_data | {"ticket_no": f"B-{self.done:06d}"})

    def _lifecycle(self, start_data: dict) -> None:
        workflow = self.workflow_class(self.process.spec, self.process.subprocess_specs,
                                       script_engine=state.SCRIPT_ENGINE)
        for task in workflow.get_tasks(state=TaskState.READY):
            task.set_data(**start_data)
        workflow.do_engine_steps()
        for step, data in self.steps:
            task = next(t for t in workflow.get_tasks(state=TaskState.READY, manual=True)
                        if t.task_spec.name == step)
            task.set_data(**data)
            task.run()
            workflow.do_engine_steps()
        assert workflow.completed


def timed(run: Callable[[int], None], count: int) -> float:
    started = time.perf_counter()
    run(count)
    return time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--count", type=int, default=300)
    parser.add_argument("--rounds", type=int, default=10)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        sides = {"spiff": MemorySide(Path(folder), BpmnWorkflow),
                 "walks": MemorySide(Path(folder), EngineWorkflow), "engine": EngineSide(Path(folder))}
        freeze_startup_objects()
        rounds: dict[str, list[float]] = {name: [] for name in sides}
        # Alternating rounds: whatever else the machine does weighs on every side alike.
        with tqdm(total=len(sides) * args.count, desc="lifecycles", unit="lifecycle") as bar:
            for share in _shares(args.count, args.rounds):
                for name, side in sides.items():
                    rounds[name].append(timed(side.run, share))
                    bar.update(share)
        sides["engine"].db.dispose()
    seconds = {name: sum(spent) for name, spent in rounds.items()}
    rate = {name: args.count / spent for name, spent in seconds.items()}
    # How far single rounds spread shows how much the machine's other load moved the figures.
    per_round = sorted(engine / spiff for engine, spiff in zip(rounds["engine"], rounds["spiff"], strict=True))
    print(f"lifecycles: {args.count} per side in {args.rounds} alternating rounds, "
          f"commands per lifecycle: {len(STEPS) + 1}")
    print(f"SpiffWorkflow in memory:            {rate['spiff']:8.1f} lifecycles/s")
    print(f"the engine's workflow in memory:    {rate['walks']:8.1f} lifecycles/s "
          f"(its own task walks; the engine on SQLite takes {seconds['engine'] / seconds['walks']:.2f}× its time)")
    print(f"engine on SQLite:                   {rate['engine']:8.1f} lifecycles/s "
          f"({rate['engine'] * (len(STEPS) + 1):.0f} committed commands/s)")
    print(f"rounds' ratios: {per_round[0]:.2f} to {per_round[-1]:.2f}, median {statistics.median(per_round):.2f}")
    print(f"ratio={seconds['engine'] / seconds['spiff']:.2f}")


def _shares(count: int, rounds: int) -> list[int]:
    return [count // rounds + (1 if n < count % rounds else 0) for n in range(rounds)]


if __name__ == "__main__":
    main()
