"""The restricted environment BPMN scripts and expressions run in."""

from __future__ import annotations

import pytest

from engine.scripting import RestrictedEnvironment, UnsafeScript, check_source


@pytest.mark.parametrize("source", [
    "import os", "from os import path", "__import__('os')", "x.__class__", "().__class__.__bases__",
    "open('/etc/passwd')", "eval('1')", "exec('x=1')", "getattr(x, 'y')", "globals()", "x._private",
    "'{0.__class__}'.format(1)", "type(x)", "compile('1', 'f', 'eval')",
])
def test_forbidden_constructs_are_refused_before_running(source):
    with pytest.raises(UnsafeScript):
        check_source(source)


def test_plain_scripts_run_over_task_data():
    env = RestrictedEnvironment()
    data = {"count": 2, "items": [3, 1, 2]}
    env.execute("count = count + 1\nordered = sorted(items)\ntotal = sum(x * 2 for x in items)", data)
    assert (data["count"], data["ordered"], data["total"]) == (3, [1, 2, 3], 12)
    assert "__builtins__" not in data
    assert env.evaluate("count > 2 and len(items) == 3", data) is True


def test_unknown_names_fail_at_run_time():
    with pytest.raises(NameError):
        RestrictedEnvironment().execute("x = os.getcwd()", {})
