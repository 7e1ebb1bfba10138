"""Jinja2 for manifest values, in the sandbox: manifests come from pull requests.

The sandboxed environment already refuses attribute access to internals (``__class__``,
``__globals__``, ...). On top of it: no loader (no ``include``/``import``, so no file
reads), no globals, a short list of filters, and bounds on every operation that can
allocate without limit (``'a' * 10**9``, ``9 ** 9 ** 9``, ``'x'.center(10**9)``), so a
template can neither run code, read files nor exhaust memory.
"""

from __future__ import annotations

import functools
import re
import threading
from collections.abc import Callable, Iterable, Iterator, Mapping
from typing import Any

import jinja2
from jinja2 import nodes
from jinja2.exceptions import SecurityError
from jinja2.sandbox import ImmutableSandboxedEnvironment

from provisioner.manifests.excerpt import bounded

MAX_OUTPUT = 65_536  # characters in one rendered value or intermediate result
MAX_INT_ARGUMENT = 100_000
# Work one render may do, counted in loop iterations, calls, and the items and characters
# they touch: nested loops or a self-calling macro would otherwise spin for hours.
MAX_STEPS = 250_000
_CALL_STEPS = 20  # a call (a macro's especially) costs about twenty loop turns
# String methods a template may call; the others can amplify (expandtabs, format, join).
_STR_METHODS = frozenset(
    {"lower", "upper", "title", "capitalize", "strip", "lstrip", "rstrip", "startswith",
     "endswith", "split", "rsplit", "removeprefix", "removesuffix", "count", "find",
     "replace", "isdigit", "isalpha", "isalnum", "islower", "isupper"}
)  # fmt: skip
_PERCENT_WIDTH = re.compile(r"%[#0 +\-]*(\*|[0-9]+)?(?:\.(\*|[0-9]+))?")
_budget = threading.local()


def _charge(steps: int) -> None:
    _budget.left = getattr(_budget, "left", MAX_STEPS) - steps
    if _budget.left < 0:
        raise SecurityError(f"more than {MAX_STEPS} steps of work")


def _cost(value: Any) -> int:
    return len(value) if isinstance(value, str | bytes | list | tuple | dict) else 0


def _printed_size(value: Any, limit: int = MAX_OUTPUT) -> int:
    """A bound on len(str(value)) that stops counting past `limit` (aliases share lists)."""
    size, stack = 0, [value]
    while stack and size <= limit:
        item = stack.pop()
        _charge(1)
        if isinstance(item, str):
            size += len(item) + 4
        elif isinstance(item, dict):
            stack.extend(item.keys())
            stack.extend(item.values())
            size += 2
        elif isinstance(item, list | tuple):
            stack.extend(item)
            size += 2
        else:
            size += 32
    return size


class TemplateError(Exception):
    """A template that does not render; the message says why, without a traceback.

    Jinja2's messages quote the template's tokens and Python's quote the values; each quote
    is cut short, so a diagnostic never carries a long piece of the manifest."""

    def __init__(self, message: str) -> None:
        super().__init__(bounded(message))


def _check_size(value: Any) -> Any:
    if isinstance(value, str | bytes | list | tuple | dict) and len(value) > MAX_OUTPUT:
        raise SecurityError(f"result longer than {MAX_OUTPUT} characters")
    if isinstance(value, int) and value.bit_length() > 256:
        raise SecurityError("number too large")
    return value


def _check_arguments(args: tuple[Any, ...], kwargs: Mapping[str, Any]) -> None:
    _charge(1 + sum(_cost(value) for value in (*args, *kwargs.values())))
    for value in (*args, *kwargs.values()):
        if isinstance(value, int) and not isinstance(value, bool) and abs(value) > MAX_INT_ARGUMENT:
            raise SecurityError(f"argument {value} is too large")
        if isinstance(value, list | tuple | dict) and _printed_size(value) > MAX_OUTPUT:
            raise SecurityError(f"argument longer than {MAX_OUTPUT} characters")


def _check_amplifiers(name: str, subject: Any, args: tuple[Any, ...]) -> None:
    """Refuse, before computing it, a replace or join whose result would be too long."""
    if name == "replace" and isinstance(subject, str) and len(args) >= 2:
        old, new = str(args[0]), str(args[1])
        count = len(subject) + 1 if not old else subject.count(old)
        if len(subject) + count * max(0, len(new) - len(old)) > MAX_OUTPUT:
            raise SecurityError(f"result longer than {MAX_OUTPUT} characters")
    if name == "join" and isinstance(subject, Iterable) and args:
        items = list(subject)
        separator = str(args[0]) if args else ""
        total = sum(len(str(i)) for i in items[: MAX_OUTPUT + 1])
        if total + max(0, len(items) - 1) * len(separator) > MAX_OUTPUT:
            raise SecurityError(f"result longer than {MAX_OUTPUT} characters")


def _bounded_filter(name: str, function: Callable[..., Any]) -> Callable[..., Any]:
    @functools.wraps(function)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        # select/reject hand on generators: read them once here, so checks can measure them.
        args = tuple(list(a) if isinstance(a, Iterator) else a for a in args)
        _check_arguments(args, kwargs)
        if name in ("replace", "join"):
            # Jinja passes its evaluation context first to some filters (replace, join).
            values = [a for a in args if not isinstance(a, nodes.EvalContext)]
            if values:
                _check_amplifiers(name, values[0], tuple(values[1:]))
        return _check_size(function(*args, **kwargs))

    return wrapper


def _iterate(iterable: Any) -> Iterator[Any]:
    # Wrapped around every for loop's iterable (see _compile): each turn costs a step.
    for item in iterable:
        _charge(1)
        yield item


def _finalize(value: Any) -> Any:
    # Every {{ ... }} is turned into text after this: refuse a container before printing it.
    if isinstance(value, list | tuple | dict) and _printed_size(value) > MAX_OUTPUT:
        raise SecurityError(f"result longer than {MAX_OUTPUT} characters")
    return value


_SAFE_FILTERS = (
    "default", "d", "lower", "upper", "title", "capitalize", "trim", "replace", "join",
    "string", "int", "first", "last", "length", "truncate", "urlencode", "list", "sort",
    "unique", "abs", "min", "max", "round", "float", "select", "reject",
)  # fmt: skip


class _Environment(ImmutableSandboxedEnvironment):
    # Intercepting these also stops Jinja2 from folding them at compile time.
    intercepted_binops = frozenset({"*", "**", "+", "%"})

    def call_binop(self, context: Any, operator_name: str, left: Any, right: Any) -> Any:
        _charge(1 + _cost(left) + _cost(right))
        if operator_name == "**" and isinstance(right, int) and abs(right) > 64:
            raise SecurityError("exponent too large")
        if operator_name == "%" and isinstance(left, str):
            for match in _PERCENT_WIDTH.finditer(left):
                for width in match.groups():
                    if width == "*" or (width and int(width) > MAX_OUTPUT):
                        raise SecurityError("format width too large")
        if operator_name == "*":
            for count, other in ((left, right), (right, left)):
                sequence = isinstance(other, str | list | tuple)
                if isinstance(count, int) and sequence and len(other) * count > MAX_OUTPUT:
                    raise SecurityError(f"result longer than {MAX_OUTPUT} characters")
        return _check_size(super().call_binop(context, operator_name, left, right))

    def call(self, __context: Any, __obj: Any, *args: Any, **kwargs: Any) -> Any:
        _charge(_CALL_STEPS)
        _check_arguments(args, kwargs)
        subject = getattr(__obj, "__self__", None)
        _check_amplifiers(getattr(__obj, "__name__", ""), subject, args)
        return _check_size(super().call(__context, __obj, *args, **kwargs))

    def wrap_str_format(self, value: Any) -> None:
        # str.format and format_map take widths (`{:>999999999}`) that allocate before any
        # check; refused through is_safe_attribute like the other unlisted methods.
        return None

    def is_safe_attribute(self, obj: Any, attr: str, value: Any) -> bool:
        if isinstance(obj, str) and callable(value) and attr not in _STR_METHODS:
            return False
        return bool(super().is_safe_attribute(obj, attr, value))


def _make_environment() -> jinja2.Environment:
    env = _Environment(
        undefined=jinja2.StrictUndefined, autoescape=False, loader=None, finalize=_finalize
    )
    env.globals.clear()
    defaults = env.filters
    env.filters = {name: _bounded_filter(name, defaults[name]) for name in _SAFE_FILTERS}
    env.filters["_provision_iterate"] = _iterate
    env.tests = {name: env.tests[name] for name in ("defined", "undefined", "none", "string")}
    return env


_ENV = _make_environment()


def is_template(text: str) -> bool:
    return "{{" in text or "{%" in text or "{#" in text


@functools.lru_cache(maxsize=4096)
def _compile(source: str) -> jinja2.Template:
    tree = _ENV.parse(source)
    for loop in tree.find_all(nodes.For):
        if loop.recursive:  # loop(...) re-enters the body without passing the budget
            raise SecurityError("recursive loops are not allowed")
        loop.iter = nodes.Filter(loop.iter, "_provision_iterate", [], [], None, None)
    return _ENV.from_string(tree)


def render(source: str, context: Mapping[str, Any]) -> str:
    """Render one manifest value; plain strings are returned as they are."""
    if not is_template(source):
        return source
    _budget.left = MAX_STEPS
    try:
        result = _render(_compile(source), context)
    except jinja2.UndefinedError as error:
        raise TemplateError(f"undefined name: {_undefined(error)}") from None
    except jinja2.TemplateSyntaxError as error:
        raise TemplateError(f"template syntax error: {error.message}") from None
    except SecurityError as error:
        raise TemplateError(f"template refused by the sandbox: {error}") from None
    except TypeError as error:
        if "no loader" in str(error):  # include/import/extends: there is nothing to load
            raise TemplateError(
                "template refused by the sandbox: include, import and extends cannot read files"
            ) from None
        raise TemplateError(f"template failed: {error}") from None
    except (ValueError, ArithmeticError, LookupError) as error:
        raise TemplateError(f"template failed: {error}") from None
    except RecursionError:
        raise TemplateError("template failed: nested too deeply") from None
    if len(result) > MAX_OUTPUT:
        raise TemplateError(f"template renders to more than {MAX_OUTPUT} characters")
    return result


def _render(template: jinja2.Template, context: Mapping[str, Any]) -> str:
    # Streamed, so output that grows past the bound stops before it is all in memory.
    parts: list[str] = []
    size = 0
    for part in template.generate(context):
        size += len(part)
        _charge(len(part))
        if size > MAX_OUTPUT:
            raise SecurityError(f"result longer than {MAX_OUTPUT} characters")
        parts.append(part)
    return "".join(parts)


def _undefined(error: jinja2.UndefinedError) -> str:
    # Jinja2 says "'dict object' has no attribute 'domian'"; keep the useful part.
    message = str(error.message or "")
    if "has no attribute" in message:
        return message.rsplit("has no attribute", 1)[1].strip()
    return message.replace(" is undefined", "")
