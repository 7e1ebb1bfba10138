"""Jinja2 for manifest values, in the sandbox: manifests come from pull requests.

The sandboxed environment already refuses attribute access to internals (``__class__``,
``__globals__``, ...). On top of it: no loader (no ``include``/``import``, so no file
reads), no globals, a short list of filters, and bounds on every operation that can
allocate without limit (``'a' * 10**9``, ``9 ** 9 ** 9``, ``'x'.center(10**9)``), so a
template can neither run code, read files nor exhaust memory.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Mapping
from typing import Any

import jinja2
from jinja2.exceptions import SecurityError
from jinja2.sandbox import ImmutableSandboxedEnvironment

MAX_OUTPUT = 65_536  # characters in one rendered value or intermediate result
MAX_INT_ARGUMENT = 100_000


class TemplateError(Exception):
    """A template that does not render; the message says why, without a traceback."""


def _check_size(value: Any) -> Any:
    if isinstance(value, str | bytes | list | tuple | dict) and len(value) > MAX_OUTPUT:
        raise SecurityError(f"result longer than {MAX_OUTPUT} characters")
    if isinstance(value, int) and value.bit_length() > 256:
        raise SecurityError("number too large")
    return value


def _bounded(function: Callable[..., Any]) -> Callable[..., Any]:
    @functools.wraps(function)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        _check_arguments(args, kwargs)
        return _check_size(function(*args, **kwargs))

    return wrapper


def _check_arguments(args: tuple[Any, ...], kwargs: Mapping[str, Any]) -> None:
    for value in (*args, *kwargs.values()):
        if isinstance(value, int) and not isinstance(value, bool) and abs(value) > MAX_INT_ARGUMENT:
            raise SecurityError(f"argument {value} is too large")


_SAFE_FILTERS = (
    "default", "d", "lower", "upper", "title", "capitalize", "trim", "replace", "join",
    "string", "int", "first", "last", "length", "truncate", "urlencode", "list", "sort",
    "unique", "abs", "min", "max", "round", "float", "select", "reject",
)  # fmt: skip


class _Environment(ImmutableSandboxedEnvironment):
    # Intercepting these also stops Jinja2 from folding them at compile time.
    intercepted_binops = frozenset({"*", "**", "+", "%"})

    def call_binop(self, context: Any, operator_name: str, left: Any, right: Any) -> Any:
        if operator_name == "**" and isinstance(right, int) and abs(right) > 64:
            raise SecurityError("exponent too large")
        if operator_name == "*":
            for count, other in ((left, right), (right, left)):
                sequence = isinstance(other, str | list | tuple)
                if isinstance(count, int) and sequence and len(other) * count > MAX_OUTPUT:
                    raise SecurityError(f"result longer than {MAX_OUTPUT} characters")
        return _check_size(super().call_binop(context, operator_name, left, right))

    def call(self, __context: Any, __obj: Any, *args: Any, **kwargs: Any) -> Any:
        _check_arguments(args, kwargs)
        return _check_size(super().call(__context, __obj, *args, **kwargs))


def _make_environment() -> jinja2.Environment:
    env = _Environment(undefined=jinja2.StrictUndefined, autoescape=False, loader=None)
    env.globals.clear()
    defaults = env.filters
    env.filters = {name: _bounded(defaults[name]) for name in _SAFE_FILTERS}
    env.tests = {name: env.tests[name] for name in ("defined", "undefined", "none", "string")}
    return env


_ENV = _make_environment()


def is_template(text: str) -> bool:
    return "{{" in text or "{%" in text or "{#" in text


@functools.lru_cache(maxsize=4096)
def _compile(source: str) -> jinja2.Template:
    return _ENV.from_string(source)


def render(source: str, context: Mapping[str, Any]) -> str:
    """Render one manifest value; plain strings are returned as they are."""
    if not is_template(source):
        return source
    try:
        result = _compile(source).render(context)
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


def _undefined(error: jinja2.UndefinedError) -> str:
    # Jinja2 says "'dict object' has no attribute 'domian'"; keep the useful part.
    message = str(error.message or "")
    if "has no attribute" in message:
        return message.rsplit("has no attribute", 1)[1].strip()
    return message.replace(" is undefined", "")
