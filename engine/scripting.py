"""Runs BPMN scripts and expressions with no imports, no I/O and no dunder access."""

from __future__ import annotations

import ast
import builtins
from functools import lru_cache
from typing import Any

from SpiffWorkflow.bpmn.script_engine import PythonScriptEngine, TaskDataEnvironment

from engine.script_functions import FUNCTIONS

_SAFE_BUILTIN_NAMES = (
    "abs", "all", "any", "bool", "dict", "enumerate", "filter", "float", "int", "isinstance", "len",
    "list", "map", "max", "min", "range", "reversed", "round", "set", "sorted", "str", "sum", "tuple",
    "zip", "ValueError",
)
SAFE_BUILTINS = {name: getattr(builtins, name) for name in _SAFE_BUILTIN_NAMES}
# Engine functions sit beside the builtins, so they are callable but never land in task data.
_SCRIPT_BUILTINS = SAFE_BUILTINS | FUNCTIONS
_FORBIDDEN_NAMES = {
    "open", "exec", "eval", "compile", "getattr", "setattr", "delattr", "globals", "locals", "vars",
    "input", "breakpoint", "help", "memoryview", "type", "object", "super", "classmethod",
    "staticmethod", "property", "print", "exit", "quit", "dir", "id", "hash",
}


class UnsafeScript(ValueError):
    """A script or expression uses something the restricted environment forbids."""


def check_source(source: str, mode: str = "exec") -> None:
    """Raise UnsafeScript (message in Chinese) for syntax errors and forbidden constructs."""
    _compiled(source, mode)


@lru_cache(maxsize=4096)
def _compiled(source: str, mode: str) -> Any:
    try:
        tree = ast.parse(source, mode=mode)
    except SyntaxError as exc:
        raise UnsafeScript(f"语法错误（第 {exc.lineno} 行）：{exc.msg}") from exc
    for node in ast.walk(tree):
        _check_node(node)
    return compile(tree, "<string>", mode)


def _check_node(node: ast.AST) -> None:
    if isinstance(node, (ast.Import, ast.ImportFrom)):
        raise UnsafeScript("脚本不允许 import 语句")
    if isinstance(node, (ast.Global, ast.Nonlocal, ast.AsyncFunctionDef, ast.Await, ast.ClassDef)):
        raise UnsafeScript(f"脚本不允许使用 {type(node).__name__}")
    if isinstance(node, ast.Attribute) and node.attr.startswith("_"):
        raise UnsafeScript(f"脚本不允许访问下划线属性 {node.attr}")
    if isinstance(node, ast.Attribute) and node.attr in ("format", "format_map"):
        # str.format reads attributes by name at run time, past the AST check.
        raise UnsafeScript(f"脚本不允许使用 {node.attr}")
    if isinstance(node, ast.Name) and (node.id.startswith("__") or node.id in _FORBIDDEN_NAMES):
        raise UnsafeScript(f"脚本不允许使用 {node.id}")


class RestrictedEnvironment(TaskDataEnvironment):
    """Task data is the namespace; builtins are a short safe list plus engine functions; AST checked first."""

    def __init__(self) -> None:
        super().__init__({"__builtins__": _SCRIPT_BUILTINS})

    def evaluate(self, expression: str, context: dict, external_context: dict | None = None) -> Any:
        code = _compiled(expression.strip(), "eval")
        namespace = {**context, **(external_context or {}), "__builtins__": _SCRIPT_BUILTINS}
        return eval(code, namespace)  # noqa: S307 - restricted by _compiled and SAFE_BUILTINS

    def execute(self, script: str, context: dict, external_context: dict | None = None) -> bool:
        code = _compiled(script, "exec")
        self.check_for_overwrite(context, external_context or {})
        context.update(external_context or {})
        context["__builtins__"] = _SCRIPT_BUILTINS
        try:
            exec(code, context)  # noqa: S102 - restricted by _compiled and SAFE_BUILTINS
        finally:
            self._remove_globals_and_functions_from_context(context, external_context)
        return True


def restricted_script_engine() -> PythonScriptEngine:
    return PythonScriptEngine(environment=RestrictedEnvironment())
