"""Route table: which handler serves a (method, path), and the route name used in counters."""

from __future__ import annotations

import re
from dataclasses import dataclass

FLOW = "/data/foundation/flowservice"
CONVERSION = "/data/foundation/conversion"  # Data Prep
CATALOG = "/data/foundation/catalog"
ADMIN = "/__emulator"
TOKEN_PATH = "/ims/token/v3"


@dataclass(frozen=True)
class Route:
    name: str  # e.g. "/data/foundation/flowservice/connections/{id}"
    methods: tuple[str, ...]
    kind: str  # "token", "api" or "admin"
    pattern: re.Pattern[str]


def _route(name: str, methods: tuple[str, ...], kind: str) -> Route:
    regex = re.escape(name).replace(re.escape("{id}"), "(?P<id>[^/]+)")
    # The OpenAPI file spells DELETE/PATCH with a trailing slash; accept both spellings.
    return Route(name, methods, kind, re.compile(f"^{regex}/?$"))


ROUTES = (
    _route(TOKEN_PATH, ("POST",), "token"),
    _route(f"{FLOW}/connections", ("GET", "POST"), "api"),
    _route(f"{FLOW}/connections/{{id}}", ("GET", "PATCH", "DELETE"), "api"),
    _route(f"{FLOW}/connections/{{id}}/test", ("GET",), "api"),
    _route(f"{FLOW}/connections/{{id}}/explore", ("GET",), "api"),
    _route(f"{FLOW}/connectionSpecs/{{id}}", ("GET",), "api"),
    _route(f"{FLOW}/sourceConnections", ("GET", "POST"), "api"),
    _route(f"{FLOW}/sourceConnections/{{id}}", ("GET", "PATCH", "DELETE"), "api"),
    _route(f"{FLOW}/targetConnections", ("GET", "POST"), "api"),
    _route(f"{FLOW}/targetConnections/{{id}}", ("GET", "PATCH", "DELETE"), "api"),
    _route(f"{FLOW}/flows", ("GET", "POST"), "api"),
    _route(f"{FLOW}/flows/{{id}}", ("GET", "PATCH", "DELETE"), "api"),
    _route(f"{FLOW}/flows/{{id}}/action", ("POST",), "api"),
    _route(f"{FLOW}/flowSpecs", ("GET",), "api"),
    _route(f"{FLOW}/flowSpecs/{{id}}", ("GET",), "api"),
    _route(f"{FLOW}/runs", ("GET",), "api"),
    _route(f"{FLOW}/runs/{{id}}", ("GET",), "api"),
    _route(f"{CONVERSION}/mappingSets", ("GET", "POST"), "api"),
    # DELETE is not in Data Prep's guide nor its OpenAPI: answered only by option.
    _route(f"{CONVERSION}/mappingSets/{{id}}", ("GET", "PUT", "DELETE"), "api"),
    _route(f"{CATALOG}/dataSets", ("GET",), "api"),
    _route(f"{CATALOG}/dataSets/{{id}}", ("GET",), "api"),
    _route(f"{ADMIN}/faults", ("GET", "PUT"), "admin"),
    _route(f"{ADMIN}/state", ("GET", "DELETE"), "admin"),
    _route(f"{ADMIN}/tokens", ("DELETE",), "admin"),
    _route(f"{ADMIN}/dataflows", ("POST",), "admin"),
    _route(f"{ADMIN}/datasets", ("POST",), "admin"),
    _route(f"{ADMIN}/tables", ("POST",), "admin"),
    _route(f"{ADMIN}/runs", ("POST",), "admin"),
    _route(f"{ADMIN}/options", ("GET", "PUT"), "admin"),
    _route(f"{ADMIN}/requests", ("GET", "DELETE"), "admin"),
    _route(f"{ADMIN}/health", ("GET",), "admin"),
)


def match(path: str) -> tuple[Route, str | None] | None:
    """The route for ``path`` and its ``{id}``, or None for an unknown path."""
    for route in ROUTES:
        found = route.pattern.match(path)
        if found:
            return route, found.groupdict().get("id")
    return None
