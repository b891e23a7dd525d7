"""The small expression language of lab.yaml, parsed safely with `ast` (never `eval`).

    faces.present                      a detector's sub-signal
    kit.led                            a kit device
    gesture.label_is("fist")           a sub-signal with an argument
    negated(faces.present)             a gpiozero.tools helper around a signal
    follows(led, face, times=3)        a check from the vocabulary

Only names, attribute access, calls, literals (numbers, strings, True/False/None, lists,
dicts) and a leading minus are allowed; anything else is an `ExprError` naming what was found.
"""

from __future__ import annotations

import ast
from dataclasses import dataclass
from typing import Any


class ExprError(ValueError):
    """An expression that is not in the language (the message says why)."""


@dataclass(frozen=True)
class Name:
    id: str


@dataclass(frozen=True)
class Attr:
    base: "Node"
    attr: str


@dataclass(frozen=True)
class Call:
    func: "Node"
    args: tuple["Node", ...]
    kwargs: tuple[tuple[str, "Node"], ...]

    @property
    def func_name(self) -> str:
        return dotted(self.func)


@dataclass(frozen=True)
class Const:
    value: Any


Node = Name | Attr | Call | Const


def dotted(node: Node) -> str:
    """`faces.present` for an Attr chain of names, else a short description."""
    if isinstance(node, Name):
        return node.id
    if isinstance(node, Attr):
        return f"{dotted(node.base)}.{node.attr}"
    if isinstance(node, Call):
        return f"{dotted(node.func)}(…)"
    return repr(node.value)


def parse(text: Any) -> Node:
    """Parse one expression; numbers and booleans pass through as constants."""
    if isinstance(text, bool) or isinstance(text, (int, float)) or text is None:
        return Const(text)
    if not isinstance(text, str):
        raise ExprError(f"expected an expression, got {type(text).__name__}")
    source = text.strip()
    if not source:
        raise ExprError("the expression is empty")
    try:
        tree = ast.parse(source, mode="eval")
    except SyntaxError as exc:
        raise ExprError(f"{source!r} is not a valid expression ({exc.msg})") from None
    return _convert(tree.body, source)


def _convert(node: ast.AST, source: str) -> Node:
    if isinstance(node, ast.Name):
        return Name(node.id)
    if isinstance(node, ast.Attribute):
        return Attr(_convert(node.value, source), node.attr)
    if isinstance(node, ast.Call):
        if node.keywords and any(k.arg is None for k in node.keywords):
            raise ExprError(f"{source!r}: **arguments are not allowed")
        if any(isinstance(a, ast.Starred) for a in node.args):
            raise ExprError(f"{source!r}: *arguments are not allowed")
        return Call(_convert(node.func, source), tuple(_convert(a, source) for a in node.args),
                    tuple((str(k.arg), _convert(k.value, source)) for k in node.keywords))
    if isinstance(node, ast.Constant):
        return Const(node.value)
    if isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.USub) \
            and isinstance(node.operand, ast.Constant) \
            and isinstance(node.operand.value, (int, float)):
        return Const(-node.operand.value)
    if isinstance(node, (ast.List, ast.Tuple)):
        return Const([literal(_convert(e, source), bare=True) for e in node.elts])
    if isinstance(node, ast.Dict):
        if any(k is None for k in node.keys):
            raise ExprError(f"{source!r}: ** in a dict is not allowed")
        return Const({literal(_convert(k, source), bare=True): literal(_convert(v, source),
                                                                        bare=True)
                      for k, v in zip(node.keys, node.values, strict=True)})
    raise ExprError(f"{source!r}: {type(node).__name__} is not allowed in a lab expression")


def literal(node: Node, *, bare: bool = False) -> Any:
    """The Python value of a constant node; with `bare`, a plain name counts as its string
    (so `{0: off, 1: green}` and `direction=up` need no quotes)."""
    if isinstance(node, Const):
        return node.value
    if bare and isinstance(node, Name):
        return node.id
    if bare and isinstance(node, Attr):
        return dotted(node)
    raise ExprError(f"{dotted(node)} must be a number, a word or a string here")
