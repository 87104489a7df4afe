"""Sandbox for the Python expressions and scripts embedded in procedure BPMN.

A gateway condition, a timer expression or a script task is text written by a procedure designer,
and SpiffWorkflow would hand it straight to ``eval``/``exec`` in the server process. No single
defence is enough in CPython, so they are layered:

1. a static check of the AST: no imports, no names or attributes starting with ``_``, and no
   statement that could catch the sandbox's own exceptions (``try``, ``with``);
2. an AST rewrite so that attribute access, f-strings and the operators able to build a huge
   object in one C call (``**``, ``*``, ``+``, ``<<``, ``%``) go through checked helpers;
3. a handful of builtins, attribute allowlists for built-in types, size checks on results;
4. a step, call-depth and CPU-time budget enforced by a trace function.

One C-level call (``max([b] * 2000, key=sorted)``) cannot be interrupted in-process and memory is
not bounded here, so by default evaluation happens in a worker process with OS limits
(:mod:`engine.sandbox_pool`); only provably bounded expressions (:func:`is_bounded`) stay in-process.
"""

from __future__ import annotations

import ast
import copy
import dis
import functools
import itertools
import keyword
import math
import sys
import time
from collections.abc import Callable, Iterable, Mapping, Sized
from dataclasses import dataclass, field
from types import CodeType, FrameType
from typing import TYPE_CHECKING, Any, Literal

from SpiffWorkflow.bpmn.script_engine import PythonScriptEngine
from SpiffWorkflow.bpmn.script_engine.python_environment import TaskDataEnvironment

from .errors import SandboxError
from .refusals import explain, translate

if TYPE_CHECKING:
    from .sandbox_pool import Limits, SandboxPool

Mode = Literal["eval", "exec"]

MAX_SOURCE_CHARS = 100_000
MAX_SEQUENCE_LENGTH = 1_000_000  # characters or elements of one string, list, tuple
MAX_INT_BITS = 10_000  # about 3,000 decimal digits, well under Python's str() limit
MAX_RANGE = 1_000_000
MAX_FORMAT_WIDTH = 1_000  # widths and precisions in f-string format specs
MAX_DATA_SIZE = 2_000_000  # characters + elements of all task data after a script


def _words(text: str) -> frozenset[str]:
    return frozenset(text.split())


#: Not builtins in the sandbox; calling them is rejected up front so the designer gets a clear message.
FORBIDDEN_FUNCTIONS = _words(
    "eval exec open compile getattr setattr delattr globals locals vars dir input breakpoint help"
    " memoryview type object super print"
)

_NOUNS: dict[str, str] = {"eval": "Biểu thức", "exec": "Kịch bản"}

_FORBIDDEN_NODES: dict[type[ast.AST], str] = {
    ast.Import: "không được dùng 'import'",
    ast.ImportFrom: "không được dùng 'import'",
    ast.Global: "không được dùng 'global'",
    ast.Nonlocal: "không được dùng 'nonlocal'",
    ast.ClassDef: "không được định nghĩa lớp ('class')",
    ast.AsyncFunctionDef: "không được dùng 'async'",
    ast.AsyncFor: "không được dùng 'async'",
    ast.AsyncWith: "không được dùng 'async'",
    ast.Await: "không được dùng 'await'",
    ast.Yield: "không được dùng 'yield'",
    ast.YieldFrom: "không được dùng 'yield'",
    # A caught budget error would let the script run on untraced (CPython drops a raising tracer).
    ast.Try: "không được dùng 'try'/'except': lỗi phải được báo cho hệ thống",
    ast.TryStar: "không được dùng 'try'/'except': lỗi phải được báo cho hệ thống",
    ast.With: "không được dùng 'with'",
    ast.Match: "không được dùng 'match'",
}


def _n(number: float) -> str:
    """Vietnamese digit grouping: 1.000.000."""
    return f"{number:,}".replace(",", ".")


# --------------------------------------------------------------------------- static check


def _is_private(name: str) -> bool:
    # A lone ``_`` is the usual throw-away loop variable and reaches nothing.
    return name.startswith("_") and name != "_"


def _constant_spec(spec: ast.expr | None) -> str | None:
    if spec is None:
        return ""
    if isinstance(spec, ast.JoinedStr) and all(
        isinstance(v, ast.Constant) and isinstance(v.value, str) for v in spec.values
    ):
        return "".join(str(v.value) for v in spec.values if isinstance(v, ast.Constant))
    return None


def _spec_problem(spec: ast.expr | None) -> str | None:
    text = _constant_spec(spec)
    if text is None:
        return "không được dùng định dạng f-string động"
    digits = "".join(c if c.isdigit() else " " for c in text).split()
    if any(int(d) > MAX_FORMAT_WIDTH for d in digits):
        return f"định dạng f-string quá rộng (tối đa {_n(MAX_FORMAT_WIDTH)})"
    return None


def _node_problem(node: ast.AST) -> str | None:
    for kind, message in _FORBIDDEN_NODES.items():
        if isinstance(node, kind):
            return message
    if isinstance(node, ast.Name) and _is_private(node.id):
        return f"không được dùng tên bắt đầu bằng '_' ({node.id})"
    if isinstance(node, ast.Attribute):
        if node.attr.startswith("_"):
            return f"không được truy cập thuộc tính bắt đầu bằng '_' ({node.attr})"
        if not isinstance(node.ctx, ast.Load):
            return f"không được gán hoặc xóa thuộc tính ({node.attr})"
    if isinstance(node, ast.arg) and _is_private(node.arg):
        return f"không được dùng tham số bắt đầu bằng '_' ({node.arg})"
    if isinstance(node, ast.keyword) and node.arg is not None and node.arg.startswith("_"):
        return f"không được dùng tham số bắt đầu bằng '_' ({node.arg})"
    if isinstance(node, ast.FunctionDef) and _is_private(node.name):
        return f"không được dùng tên bắt đầu bằng '_' ({node.name})"
    if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id in FORBIDDEN_FUNCTIONS:
        return f"không được gọi hàm '{node.func.id}'"
    if isinstance(node, ast.FormattedValue):
        return _spec_problem(node.format_spec)
    if (
        isinstance(node, ast.AugAssign)
        and isinstance(node.target, ast.Subscript)
        and isinstance(node.target.slice, ast.Slice)
        and type(node.op) in _CHECKED_OPS
    ):
        return "không hỗ trợ phép gán kết hợp trên lát cắt (a[i:j] op= …)"
    return None


def _static_problems(tree: ast.AST, mode: Mode) -> list[str]:
    noun = _NOUNS[mode]
    problems: list[str] = []
    for node in ast.walk(tree):
        message = _node_problem(node)
        if message is not None:
            where = f" (dòng {node.lineno})" if mode == "exec" and hasattr(node, "lineno") else ""
            problems.append(f"{noun} {message}{where}")
    return problems


# --------------------------------------------------------------------------- rewrite

_CHECKED_OPS: dict[type[ast.operator], str] = {
    ast.Pow: "pow",
    ast.Mult: "mul",
    ast.Add: "add",
    ast.LShift: "lshift",
    ast.Mod: "mod",
}


def _call(origin: ast.AST, helper: str, *args: ast.expr) -> ast.Call:
    call = ast.Call(func=ast.Name(id=helper, ctx=ast.Load()), args=list(args), keywords=[])
    return ast.copy_location(call, origin)


def _has_starred(elements: list[ast.expr], ctx: ast.expr_context) -> bool:
    return isinstance(ctx, ast.Load) and any(isinstance(e, ast.Starred) for e in elements)


def _unpack(origin: ast.AST, kind: str, elements: list[ast.expr]) -> ast.Call:
    """``[a, *b, c]`` -> ``__sb_unpack("list", [a], b, [c])``: ``[*s, *s, …]`` would multiply sizes."""
    pieces: list[ast.expr] = []
    plain: list[ast.expr] = []
    for element in elements:
        if isinstance(element, ast.Starred):
            if plain:
                pieces.append(ast.List(elts=plain, ctx=ast.Load()))
                plain = []
            pieces.append(element.value)
        else:
            plain.append(element)
    if plain:
        pieces.append(ast.List(elts=plain, ctx=ast.Load()))
    return _call(origin, "__sb_unpack", ast.Constant(kind), *pieces)


class _Rewriter(ast.NodeTransformer):
    """Routes the operations that can build huge objects or reach internals through checked helpers."""

    def visit_BinOp(self, node: ast.BinOp) -> ast.expr:
        self.generic_visit(node)
        name = _CHECKED_OPS.get(type(node.op))
        return node if name is None else _call(node, f"__sb_{name}", node.left, node.right)

    def visit_AugAssign(self, node: ast.AugAssign) -> ast.stmt:
        self.generic_visit(node)
        name = _CHECKED_OPS.get(type(node.op))
        target = node.target
        if name is None:
            return node
        if isinstance(target, ast.Name):
            value = _call(node, f"__sb_{name}", ast.Name(id=target.id, ctx=ast.Load()), node.value)
            return ast.copy_location(ast.Assign(targets=[target], value=value), node)
        if not isinstance(target, ast.Subscript):  # attributes are rejected by the static check
            raise AssertionError("unexpected augmented assignment target")
        call = _call(node, "__sb_augitem", target.value, target.slice, ast.Constant(name), node.value)
        return ast.copy_location(ast.Expr(call), node)

    def visit_List(self, node: ast.List) -> ast.expr:
        self.generic_visit(node)
        return _unpack(node, "list", node.elts) if _has_starred(node.elts, node.ctx) else node

    def visit_Tuple(self, node: ast.Tuple) -> ast.expr:
        self.generic_visit(node)
        return _unpack(node, "tuple", node.elts) if _has_starred(node.elts, node.ctx) else node

    def visit_Call(self, node: ast.Call) -> ast.expr:
        self.generic_visit(node)
        if _has_starred(node.args, ast.Load()):
            node.args = [ast.Starred(value=_unpack(node, "tuple", node.args), ctx=ast.Load())]
        return node

    def visit_Attribute(self, node: ast.Attribute) -> ast.expr:
        self.generic_visit(node)
        return _call(node, "__sb_attr", node.value, ast.Constant(node.attr))

    def visit_JoinedStr(self, node: ast.JoinedStr) -> ast.expr:
        parts: list[ast.expr] = []
        for value in node.values:
            if isinstance(value, ast.FormattedValue):
                spec = ast.Constant(_constant_spec(value.format_spec))
                conversion = ast.Constant(value.conversion)
                parts.append(_call(value, "__sb_format", self.visit(value.value), conversion, spec))
            else:
                parts.append(value)
        return _call(node, "__sb_concat", ast.List(elts=parts, ctx=ast.Load()))


# --------------------------------------------------------------------------- compile (cached)


@dataclass(frozen=True)
class _Compiled:
    problems: tuple[str, ...]
    code: CodeType | None = None
    #: every code object of the source -> offsets of its backward jumps (loop iterations)
    jumps: Mapping[CodeType, frozenset[int]] = field(default_factory=dict)


def _code_objects(code: CodeType) -> Iterable[CodeType]:
    yield code
    for const in code.co_consts:
        if isinstance(const, CodeType):
            yield from _code_objects(const)


_JUMP_OPCODES = frozenset(dis.hasjrel + dis.hasjabs)


def _backward_jumps(code: CodeType) -> frozenset[int]:
    # ``while True: pass`` on one line emits no line events in CPython 3.11; its jump still counts.
    return frozenset(
        ins.offset
        for ins in dis.get_instructions(code)
        if ins.opcode in _JUMP_OPCODES and isinstance(ins.argval, int) and ins.argval <= ins.offset
    )


def _syntax_problem(noun: str, error: SyntaxError) -> str:
    where = f"dòng {error.lineno}: " if error.lineno else ""
    return f"{noun} sai cú pháp: {where}{translate(error.msg or '') or 'cách viết không hợp lệ'}"


@functools.lru_cache(maxsize=4096)
def _compile(source: str, mode: Mode) -> _Compiled:
    """Check and compile once: gateway conditions are evaluated on every pass through the gateway."""
    noun = _NOUNS[mode]
    text = source.strip() if mode == "eval" else source
    if len(text) > MAX_SOURCE_CHARS:
        return _Compiled((f"{noun} quá dài (tối đa {_n(MAX_SOURCE_CHARS)} ký tự)",))
    try:
        tree = ast.parse(text, mode=mode)
    except SyntaxError as exc:
        return _Compiled((_syntax_problem(noun, exc),))
    except (ValueError, RecursionError, MemoryError) as exc:
        return _Compiled((f"{noun} sai cú pháp: {explain(exc).message}",))
    problems = _static_problems(tree, mode)
    if problems:
        return _Compiled(tuple(problems))
    tree = ast.fix_missing_locations(_Rewriter().visit(tree))
    try:
        # "<string>" is the file name SpiffWorkflow looks for to report the failing line of a script.
        code = compile(tree, "<string>", mode)
    except SyntaxError as exc:  # e.g. 'return' or 'break' outside their block, only seen by the compiler
        return _Compiled((_syntax_problem(noun, exc),))
    return _Compiled((), code, {c: _backward_jumps(c) for c in _code_objects(code)})


def _compiled_or_raise(source: str, mode: Mode) -> tuple[CodeType, Mapping[CodeType, frozenset[int]]]:
    compiled = _compile(source, mode)
    if compiled.problems or compiled.code is None:
        raise SandboxError("; ".join(compiled.problems), details={"problems": list(compiled.problems)})
    return compiled.code, compiled.jumps


def check_source(source: str, *, mode: Mode) -> list[str]:
    """Problems that would stop ``source`` before it runs, for the designer's lint (no execution)."""
    return list(_compile(source, mode).problems)


# --------------------------------------------------------------------------- bounded expressions

_BOUNDED_NODES = (
    ast.Expression,
    ast.Compare,
    ast.BoolOp,
    ast.UnaryOp,
    ast.Name,
    ast.Load,
    ast.Constant,
    ast.Subscript,
    ast.Tuple,
    ast.List,
    ast.Set,
    ast.cmpop,
    ast.boolop,
    ast.Not,
    ast.USub,
    ast.UAdd,
)
MAX_BOUNDED_CONSTANT = 1_000  # characters of a string constant in an in-process expression


def _bounded_node(node: ast.AST, functions: Mapping[str, Any]) -> bool:
    if isinstance(node, ast.Constant):
        value = node.value
        return not isinstance(value, (str, bytes)) or len(value) <= MAX_BOUNDED_CONSTANT
    if isinstance(node, ast.Subscript):
        return isinstance(node.slice, ast.Constant)
    if isinstance(node, ast.Call):
        # An engine function (trusted, argument-checked) called with constants: working_hours(8).
        return (
            isinstance(node.func, ast.Name)
            and node.func.id in functions
            and not node.keywords
            and all(isinstance(a, ast.Constant) for a in node.args)
        )
    return isinstance(node, _BOUNDED_NODES)


@functools.lru_cache(maxsize=4096)
def _bounded_shape(expression: str, functions: frozenset[str]) -> bool:
    try:
        tree = ast.parse(expression.strip(), mode="eval")
    except (SyntaxError, ValueError, RecursionError, MemoryError):
        return False
    names = dict.fromkeys(functions)
    return all(_bounded_node(node, names) for node in ast.walk(tree))


def is_bounded(expression: str, functions: Mapping[str, Any] | None = None) -> bool:
    """True when evaluating ``expression`` provably takes little time and memory in-process.

    Comparisons, ``and``/``or``/``not``, names, short constants and constant subscripts touch each
    value of the task data at most once, and task data is size-checked; no call, operator or
    comprehension can make work out of nothing. An engine function called with constants is
    trusted code that checks its own arguments.
    """
    if len(expression) > MAX_BOUNDED_CONSTANT * 2:
        return False
    return _bounded_shape(expression, frozenset(functions or ()))


# --------------------------------------------------------------------------- runtime helpers

_SEQUENCES = (str, bytes, bytearray, list, tuple)


def _check_length(length: int) -> None:
    if length > MAX_SEQUENCE_LENGTH:
        raise SandboxError(f"Kết quả quá lớn: vượt quá {_n(MAX_SEQUENCE_LENGTH)} phần tử hoặc ký tự")


def _check_bits(bits: float) -> None:
    if bits > MAX_INT_BITS:
        raise SandboxError(f"Số nguyên quá lớn: vượt quá {_n(MAX_INT_BITS)} bit")


_CONTAINERS = (dict, list, tuple, set, frozenset)


def _children(item: Any) -> Iterable[Any]:
    return [*item.keys(), *item.values()] if isinstance(item, dict) else item


def _expanded_size(value: Any, limit: int) -> int:
    """Characters + elements as str() or JSON would write them: a shared list counts every time.

    Memoised per object, so a DAG of lists nested 100 deep costs 100 steps, not 2**100; the walk
    stops as soon as the distinct content alone exceeds ``limit``, so it is never slow either.
    """
    if not isinstance(value, _CONTAINERS):
        return len(value) if isinstance(value, (str, bytes)) else 1
    sizes: dict[int, int] = {}
    unfinished: dict[int, tuple[int, list[Any]]] = {}  # on the current path: own size, nested containers
    distinct = 0
    stack: list[tuple[Any, bool]] = [(value, False)]
    while stack:
        item, children_done = stack.pop()
        key = id(item)
        if children_done:
            own, nested = unfinished.pop(key)
            sizes[key] = own + sum(sizes[id(c)] for c in nested)
            continue
        if key in sizes:
            continue
        if key in unfinished:
            raise SandboxError("Dữ liệu có tham chiếu vòng (một danh sách chứa chính nó)")
        children = _children(item)
        nested = [c for c in children if isinstance(c, _CONTAINERS)]
        own = len(item) + 1 + sum(len(c) for c in children if isinstance(c, (str, bytes)))
        distinct += own
        if distinct > limit:
            return distinct
        if nested:
            unfinished[key] = (own, nested)
            stack.append((item, True))
            stack.extend((c, False) for c in nested)
        else:
            sizes[key] = own
    return sizes[id(value)]


def _check_size(value: Any, limit: int = MAX_SEQUENCE_LENGTH) -> None:
    if _expanded_size(value, limit) > limit:
        raise SandboxError(f"Dữ liệu quá lớn: vượt quá {_n(limit)} phần tử hoặc ký tự")


def _checked_pow(base: Any, exponent: Any) -> Any:
    if isinstance(base, int) and isinstance(exponent, int) and exponent > 0 and abs(base) > 1:
        _check_bits(exponent)  # |base| >= 2, so at least that many bits; also keeps the float below finite
        _check_bits(math.log2(abs(base)) * exponent)
    return base**exponent


def _checked_mul(left: Any, right: Any) -> Any:
    if isinstance(left, int) and isinstance(right, int):
        _check_bits(left.bit_length() + right.bit_length())
    elif isinstance(left, _SEQUENCES) and isinstance(right, int):
        _check_length(len(left) * right)
    elif isinstance(right, _SEQUENCES) and isinstance(left, int):
        _check_length(len(right) * left)
    return left * right


def _checked_add(left: Any, right: Any) -> Any:
    if isinstance(left, _SEQUENCES) and isinstance(right, _SEQUENCES):
        _check_length(len(left) + len(right))
    return left + right


def _checked_lshift(left: Any, right: Any) -> Any:
    if isinstance(left, int) and isinstance(right, int) and left:
        _check_bits(right)
        _check_bits(left.bit_length() + right)
    return left << right


def _checked_mod(left: Any, right: Any) -> Any:
    if isinstance(left, (str, bytes)):
        # '%s%s…' % (s, s, …) multiplies sizes; f-strings are checked part by part instead.
        raise SandboxError("Không hỗ trợ định dạng chuỗi bằng '%'; hãy dùng f-string")
    return left % right


_OPERATORS: dict[str, Callable[[Any, Any], Any]] = {
    "pow": _checked_pow,
    "mul": _checked_mul,
    "add": _checked_add,
    "lshift": _checked_lshift,
    "mod": _checked_mod,
}


def _checked_augitem(container: Any, key: Any, op: str, value: Any) -> None:
    container[key] = _OPERATORS[op](container[key], value)


def _checked_unpack(kind: str, *pieces: Any) -> Any:
    parts: list[Any] = []
    total = 0
    for piece in pieces:
        # A generator is traced while listed; zip/enumerate are bounded by their own inputs.
        part = piece if isinstance(piece, Sized) else list(piece)
        total += len(part)
        _check_length(total)
        parts.append(part)
    return (list if kind == "list" else tuple)(itertools.chain.from_iterable(parts))


def _str_replace(text: str, old: str, new: str, count: int = -1) -> str:
    found = text.count(old) if count < 0 else min(count, text.count(old))
    _check_length(len(text) + found * (len(new) - len(old)))
    return text.replace(old, new, count)


def _str_join(separator: str, parts: Iterable[Any]) -> str:
    items = list(parts)
    _check_length(sum(len(p) for p in items if isinstance(p, str)) + len(separator) * max(len(items) - 1, 0))
    return separator.join(items)


def _str_pad(method: str) -> Callable[..., str]:
    def pad(text: str, width: int, *rest: Any) -> str:
        _check_length(width)
        result: str = getattr(text, method)(width, *rest)
        return result

    return pad


def _list_extend(items: list[Any], more: Iterable[Any]) -> None:
    extra = list(more)
    _check_length(len(items) + len(extra))
    items.extend(extra)


_GUARDED_METHODS: dict[str, Callable[..., Any]] = {
    "replace": _str_replace,
    "join": _str_join,
    "extend": _list_extend,
    **{name: _str_pad(name) for name in ("ljust", "rjust", "center", "zfill")},
}

_SET_METHODS = _words(
    "add clear copy difference difference_update discard intersection intersection_update isdisjoint"
    " issubset issuperset pop remove symmetric_difference symmetric_difference_update union update"
)
_ATTRIBUTES: dict[type, frozenset[str]] = {
    str: _words(
        "capitalize casefold count endswith find index isalnum isalpha isascii isdecimal isdigit islower"
        " isnumeric isspace istitle isupper lower lstrip partition removeprefix removesuffix rfind rindex"
        " rpartition rsplit rstrip split splitlines startswith strip swapcase title upper"
        # the last six are size-checked
        " replace join ljust rjust center zfill"
    ),
    list: _words("append clear copy count index insert pop remove reverse sort extend"),
    dict: _words("clear copy fromkeys get items keys pop popitem setdefault update values"),
    set: _SET_METHODS,
    frozenset: _SET_METHODS,
    tuple: _words("count index"),
    int: _words("bit_length conjugate denominator imag numerator real"),
    float: _words("as_integer_ratio conjugate imag is_integer real"),
}


def _allowed_attributes(obj: Any) -> frozenset[str] | None:
    """Allowed names, or None for objects the engine handed in (any public attribute)."""
    if isinstance(obj, type):
        return frozenset()
    for klass in type(obj).__mro__:
        allowed = _ATTRIBUTES.get(klass)
        if allowed is not None:
            return allowed
    # Functions, generators, frames, modules, bytes…: every attribute is a door to internals.
    return frozenset() if type(obj).__module__ == "builtins" else None


def _checked_attr(obj: Any, name: str) -> Any:
    allowed = _allowed_attributes(obj)
    if name.startswith("_") or (allowed is not None and name not in allowed):
        raise SandboxError(f"Không được truy cập thuộc tính '{name}' của kiểu '{type(obj).__name__}'")
    guard = _GUARDED_METHODS.get(name) if allowed is not None else None
    return getattr(obj, name) if guard is None else functools.partial(guard, obj)


def _safe_format(value: Any, conversion: int, spec: str) -> str:
    _check_size(value)
    if conversion == ord("r"):
        value = repr(value)
    elif conversion == ord("a"):
        value = ascii(value)
    elif conversion == ord("s"):
        value = str(value)
    return format(value, spec)


def _safe_concat(parts: list[str]) -> str:
    _check_length(sum(len(p) for p in parts))
    return "".join(parts)


def _safe_range(*args: int) -> range:
    numbers = range(*args)
    try:
        length = len(numbers)
    except OverflowError:
        length = MAX_RANGE + 1
    if length > MAX_RANGE:
        raise SandboxError(f"range() vượt quá {_n(MAX_RANGE)} phần tử")
    return numbers


def _safe_zip(*iterables: Any, strict: bool = False) -> Iterable[tuple[Any, ...]]:
    # list(zip(*[range(10**6)] * 1000)) would build a billion references in one C call.
    if iterables and all(isinstance(i, Sized) for i in iterables):
        _check_length(min(len(i) for i in iterables) * len(iterables))
    return zip(*iterables, strict=strict)


def _safe_sum(values: Iterable[Any], start: Any = 0) -> Any:
    if not isinstance(start, (int, float)):
        raise SandboxError("sum() chỉ dùng để cộng các số")
    return sum(values, start)


def _safe_str(value: Any = "", *args: Any) -> str:
    _check_size(value)
    return str(value, *args)


_SAFE_BUILTINS: dict[str, Any] = {
    **{f.__name__: f for f in (len, min, max, abs, round, sorted, any, all, enumerate)},
    **{t.__name__: t for t in (int, float, bool, list, dict, set, tuple)},
    "sum": _safe_sum,
    "range": _safe_range,
    "str": _safe_str,
    "zip": _safe_zip,
}

_HELPERS: dict[str, Any] = {
    "__sb_attr": _checked_attr,
    "__sb_augitem": _checked_augitem,
    "__sb_format": _safe_format,
    "__sb_concat": _safe_concat,
    "__sb_unpack": _checked_unpack,
    **{f"__sb_{name}": op for name, op in _OPERATORS.items()},
}


# --------------------------------------------------------------------------- budget


class _Budget:
    """Trace function counting steps (new lines and loop iterations), call depth and CPU time."""

    def __init__(
        self,
        jumps: Mapping[CodeType, frozenset[int]],
        noun: str,
        max_steps: int,
        cpu_seconds: float,
        max_depth: int,
    ) -> None:
        self._jumps = jumps
        self._noun = noun
        self._max_steps = max_steps
        self._max_depth = max_depth
        self._cpu_seconds = cpu_seconds
        # Thread CPU time: a busy neighbour thread of the web server must not eat this budget.
        self._deadline = time.thread_time() + cpu_seconds
        self._steps = 0
        self._depth = 0

    def on_call(self, frame: FrameType, event: str, arg: Any) -> Any:
        if frame.f_code not in self._jumps:
            return None  # engine functions and the standard library run untraced (and trusted)
        self._depth += 1
        if self._depth > self._max_depth:
            raise SandboxError(f"{self._noun} gọi hàm lồng nhau quá sâu (tối đa {self._max_depth} mức)")
        self._tick()
        frame.f_trace_opcodes = True
        return self._on_event

    def _on_event(self, frame: FrameType, event: str, arg: Any) -> Any:
        if event == "line" or (event == "opcode" and frame.f_lasti in self._jumps[frame.f_code]):
            self._tick()
        elif event == "return":
            self._depth -= 1
        return self._on_event

    def _tick(self) -> None:
        self._steps += 1
        if self._steps > self._max_steps:
            raise SandboxError(f"{self._noun} vượt quá giới hạn {_n(self._max_steps)} bước xử lý")
        if time.thread_time() > self._deadline:
            seconds = f"{self._cpu_seconds:g}".replace(".", ",")
            raise SandboxError(
                f"Vượt quá giới hạn thời gian xử lý của kịch bản ({seconds} giây)", details={"limit": "cpu"}
            )


# --------------------------------------------------------------------------- environment


class SandboxedEnvironment(TaskDataEnvironment):  # type: ignore[misc]
    """SpiffWorkflow script environment that checks, rewrites and budgets all BPMN Python.

    ``functions`` (e.g. ``working_hours``, ``working_days``, ``now``) are the only names besides the
    safe builtins and the task data; they are trusted engine code and run untraced. ``lambda`` and
    ``def`` are allowed (handy for ``sorted(key=…)``); recursion is stopped by ``max_depth``.
    """

    def __init__(
        self,
        functions: Mapping[str, Callable[..., Any]] | None = None,
        *,
        max_steps: int = 100_000,
        cpu_seconds: float = 1.0,
        max_depth: int = 50,
        pool: SandboxPool | None | Literal["shared"] = "shared",
    ) -> None:
        functions = dict(functions or {})
        for name in functions:
            if not name.isidentifier() or keyword.iskeyword(name) or name.startswith("_"):
                raise SandboxError(f"Tên hàm không hợp lệ cho biểu thức: {name!r}")
        super().__init__(functions)
        self.max_steps = max_steps
        self.cpu_seconds = cpu_seconds
        self.max_depth = max_depth
        self.functions = functions
        if pool == "shared":
            from .sandbox_pool import shared_pool

            pool = shared_pool()
        #: None: run here (inside a sandbox worker, or where OS limits are not wanted: unit tests)
        self.pool = pool

    def _limits(self) -> Limits:
        from .sandbox_pool import Limits

        return Limits(self.max_steps, self.cpu_seconds, self.max_depth)

    def evaluate(self, expression: str, context: dict[str, Any], external_context: Any = None) -> Any:
        """Value of a condition or timer expression; task data is read (as in SpiffWorkflow), not copied.

        A provably bounded expression (comparisons of names and constants, an engine function called
        with constants) is evaluated here; anything else goes to a worker process under OS limits.
        """
        if self.pool is not None and not is_bounded(expression, self.functions):
            _compiled_or_raise(expression, "eval")  # static problems are reported without a round trip
            return self.pool.run(
                "eval", expression, context, external_context or {}, self.functions, self._limits()
            )
        code, jumps = _compiled_or_raise(expression, "eval")
        scope = {**self.globals, **(external_context or {}), **context}
        result = self._run(code, jumps, scope, _NOUNS["eval"])
        _check_size(result)
        return result

    def execute(self, script: str, context: dict[str, Any], external_context: Any = None) -> bool:
        """Run a script task and store its variables in the task data.

        Unlike SpiffWorkflow's environment the task data only changes if the script succeeds (it
        runs on a deep copy), so a task retried after an error does not see half its effects.
        """
        external = external_context or {}
        self.check_for_overwrite(context, external)
        code, jumps = _compiled_or_raise(script, "exec")
        if self.pool is not None:
            result = self.pool.run("exec", script, context, external, self.functions, self._limits())
            if not isinstance(result, dict):
                raise SandboxError("Tiến trình chạy kịch bản trả lời không hợp lệ")
            self._remove_globals_and_functions_from_context(result, external)
            context.clear()
            context.update(result)
            return True
        scope = {**self.globals, **external, **copy.deepcopy(context)}
        self._run(code, jumps, scope, _NOUNS["exec"])
        result = {key: value for key, value in scope.items() if key not in _HELPERS}
        # Same clean-up as SpiffWorkflow: builtins, callables, engine functions, data objects.
        self._remove_globals_and_functions_from_context(result, external)
        _check_size(result, MAX_DATA_SIZE)
        context.clear()
        context.update(result)
        return True

    def check_for_overwrite(self, context: Mapping[str, Any], external_context: Mapping[str, Any]) -> None:
        """Fail clearly when task data hides an engine function (the script would call a value)."""
        clashes = sorted((set(self.globals) | set(external_context)) & set(context))
        if clashes:
            raise SandboxError(f"Dữ liệu hồ sơ có biến trùng tên với hàm của hệ thống: {', '.join(clashes)}")

    def _run(
        self, code: CodeType, jumps: Mapping[CodeType, frozenset[int]], scope: dict[str, Any], noun: str
    ) -> Any:
        scope.update(_HELPERS)
        scope["__builtins__"] = dict(_SAFE_BUILTINS)
        budget = _Budget(jumps, noun, self.max_steps, self.cpu_seconds, self.max_depth)
        previous = sys.gettrace()  # pytest, coverage or a debugger may be tracing us
        sys.settrace(budget.on_call)
        try:
            return eval(code, scope)  # checked, rewritten and budgeted above
        except RecursionError as exc:
            raise SandboxError(f"{noun} đệ quy hoặc lồng dữ liệu quá sâu") from exc
        except MemoryError as exc:
            raise SandboxError(f"{noun} dùng quá nhiều bộ nhớ", details={"limit": "memory"}) from exc
        finally:
            sys.settrace(previous)


def make_script_engine(
    functions: Mapping[str, Callable[..., Any]] | None = None, **limits: Any
) -> PythonScriptEngine:
    """A SpiffWorkflow script engine whose expressions and scripts run in the sandbox."""
    return PythonScriptEngine(environment=SandboxedEnvironment(functions, **limits))


def find_sandbox_error(error: BaseException) -> SandboxError | None:
    """The SandboxError behind an exception SpiffWorkflow wrapped (it keeps it as ``__context__``)."""
    seen: set[int] = set()
    current: BaseException | None = error
    while current is not None and id(current) not in seen:
        if isinstance(current, SandboxError):
            return current
        seen.add(id(current))
        current = current.__cause__ or current.__context__
    return None
