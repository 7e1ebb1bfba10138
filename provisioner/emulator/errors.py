"""The error bodies the emulator answers with.

Adobe uses two shapes: the API gateway's ``{"error_code", "message"}`` (token, API key, org
header, rate limit) and the Flow Service's problem-like body whose ``type`` ends in
``FLOW-<code>-<status>``. IMS has a third, OAuth-style shape. Handlers raise :class:`ApiError`
and the WSGI layer renders it, so no handler builds a response by hand.
"""

from __future__ import annotations

import uuid
from typing import Any

JsonObject = dict[str, Any]

FLOW_TYPE_PREFIX = "https://ns.adobe.com/aep/errors/FLOW-"

# code -> (title, default detailed message). Titles and messages follow Adobe's catalogue
# "Flow Service error messages"; codes marked "emulator" are not in it and are the emulator's
# choice for situations the catalogue does not cover.
FLOW_CODES: dict[str, tuple[str, str]] = {
    "1100-400": ("Invalid request", "The request could not be processed."),
    "1101-404": ("Resource not found", "The requested resource is not found."),
    "1102-500": ("Internal Error", "An internal error has occurred. Please try again."),
    "1103-503": (
        "Service Unavailable",
        "The service is temporarily unavailable. Please try again.",
    ),
    "1104-504": ("Gateway Timeout", "A gateway timeout has occurred. Please try again."),
    "1401-400": (
        "Invalid request",
        "The limit and count parameters cannot be given together in the same request.",
    ),
    "1403-400": ("Header is missing", "The header 'If-Match' is missing in the request."),
    "1404-412": (
        "Version not matching",
        "The supplied version does not match the current version.",
    ),
    "1405-400": ("Invalid request", "The request body cannot be null or empty."),
    "1413-400": ("Invalid request", "The provided spec ID is invalid."),
    "1414-400": ("Invalid request", "The connection spec of a connection cannot be updated."),
    "1415-400": ("Invalid request", "The auth spec was not found for the connection spec."),
    "1416-400": (
        "Invalid request",
        "Delete or update can only be applied to connections that are enabled, disabled or "
        "initializing.",
    ),
    # [inferred wording] Adobe documents the code for a connection its dataflows still use.
    "1418-400": (
        "Invalid request",
        "The connection is in use by one or more dataflows and cannot be deleted.",
    ),
    "1402-400": ("Invalid request", "The action finalize can only be applied by a provider."),
    "1410-400": ("Invalid request", "State is not allowed in the create flow request."),
    "1412-400": ("Invalid request", "The mapping version is invalid."),
    "1420-400": ("Invalid request", "The current state cannot be updated."),
    "1421-400": ("Invalid request", "The current state cannot be transitioned."),
    "1422-400": ("Invalid request", "The action cannot be applied on the current state."),
    "1425-400": (
        "Invalid request",
        "Schema with same id and version must be used in both mapping and target dataset.",
    ),
    "1434-400": ("Invalid request", "The patch operation 'move' is not supported."),
    "1436-400": ("Invalid request", "The subOp is not supported for this action."),
    "1444-400": ("Invalid request", "The flow is not in the expected state."),
    "1447-400": ("Invalid request", "Found active flows containing the id."),
    "1455-400": ("Invalid request", "The patch request is invalid."),
    "2100-404": ("Sandbox not found", "The sandbox in header 'x-sandbox-name' was not found."),
    "2105-400": ("Header is missing", "The header 'x-sandbox-name' is missing in the request."),
    # emulator: Adobe documents no code for these.
    "1100-405": ("Method not allowed", "The method is not allowed on this resource."),
}


class ApiError(Exception):
    """An HTTP error response: status, JSON body and extra headers."""

    def __init__(
        self, status: int, body: JsonObject, headers: dict[str, str] | None = None
    ) -> None:
        super().__init__(f"{status} {body}")
        self.status = status
        self.body = body
        self.headers = headers or {}


def flow_error(
    code: str,
    detail: str | None = None,
    *,
    headers: dict[str, str] | None = None,
    request_id: str | None = None,
) -> ApiError:
    """A Flow Service error, e.g. ``flow_error("1101-404", "no connection with id ...")``."""
    title, default_detail = FLOW_CODES[code]
    message = detail or default_detail
    status = int(code.rsplit("-", 1)[1])
    body: JsonObject = {
        "type": f"{FLOW_TYPE_PREFIX}{code}",
        "title": title,
        "status": status,
        "report": {
            "detailed-message": message,
            "request-id": request_id or uuid.uuid4().hex,
        },
        "errorMessage": message,
        "errorDetails": f"FLOW-{code}: {message}",
    }
    return ApiError(status, body, headers)


# Gateway codes from Adobe's troubleshooting guide; 403025, 404010 and 413000 are [inferred]
# from live gateway answers / the emulator's choice.
GATEWAY_CODES: dict[str, tuple[int, str]] = {
    "401013": (401, "Oauth token is not valid"),
    "403010": (403, "Oauth token is missing."),
    "403000": (403, "Api Key is required"),
    "403003": (403, "Api Key is invalid"),
    "403025": (403, "Profile is not valid"),
    "400003": (400, "Missing header"),
    "404010": (404, "Service not found"),
    "413000": (413, "Request body is too large"),
    "429050": (429, "Too many requests"),
}


def gateway_error(
    code: str, message: str | None = None, *, headers: dict[str, str] | None = None
) -> ApiError:
    status, default = GATEWAY_CODES[code]
    return ApiError(status, {"error_code": code, "message": message or default}, headers)


def content_type_error() -> ApiError:
    # Adobe's documented answer to a body sent without a JSON Content-Type.
    return ApiError(
        400,
        {
            "type": "/placeholder/type/uri",
            "status": 400,
            "title": "BadRequestError",
            "detail": "A valid content-type must be specified",
        },
    )


def platform_error(service: str, status: int, title: str, detail: str) -> ApiError:
    """A Data Prep or Catalog error. [inferred] Adobe's Platform APIs answer problem-style
    bodies; their exact codes are not published for these routes, so the type names only
    the service and the status."""
    body = {
        "type": f"https://ns.adobe.com/aep/errors/{service}-{status}",
        "title": title,
        "status": status,
        "detail": detail,
    }
    return ApiError(status, body)


def ims_error(status: int, error: str, description: str) -> ApiError:
    return ApiError(status, {"error": error, "error_description": description})


def server_error(status: int) -> ApiError:
    """A transient 5xx in the Flow Service shape (500 → 1102, 503 → 1103, 504 → 1104)."""
    code = {500: "1102-500", 503: "1103-503", 504: "1104-504"}[status]
    return flow_error(code)
