"""`provision plan` on hostile manifests and hostile API responses.

Hostile manifests fail in validation, before any request. Malformed responses from the
Flow Service (HTML pages, truncated or wrongly typed JSON, next links that loop or never
end, huge bodies) end the run with exit 1 and one line naming the method and URL. The
HTTP seam is `commands.session.build_http_client`; a MockTransport stands in for the API.
"""

from __future__ import annotations

import json
import re
import time
from collections.abc import Callable
from pathlib import Path

import httpx
import pytest

from provisioner.commands import session as remote

from .hostile import MANIFEST, check, run_cli
from .test_yaml_inputs import CASES

Handler = Callable[[httpx.Request], httpx.Response]
FLOW = "https://platform.example.test/data/foundation/flowservice"
LIST = re.compile(r"https://platform\.example\.test/data/foundation/flowservice/connections\S*")


class Api:
    """IMS and a Flow Service listing whose answer a test chooses; counts what it served."""

    def __init__(self, listing: Handler) -> None:
        self.listing = listing
        self.requests: list[httpx.Request] = []

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        if request.url.path == "/ims/token/v3":
            return httpx.Response(
                200,
                json={"access_token": "tok-123456", "token_type": "bearer", "expires_in": 86399},
            )
        return self.listing(request)


@pytest.fixture
def use_api(monkeypatch: pytest.MonkeyPatch) -> Callable[[Handler], Api]:
    def install(listing: Handler) -> Api:
        api = Api(listing)

        def build(timeout: float = 30.0, **_: object) -> httpx.Client:
            return httpx.Client(transport=httpx.MockTransport(api), follow_redirects=False)

        monkeypatch.setattr(remote, "build_http_client", build)
        return api

    for name in ("CI", "NO_COLOR", "AEP_SCOPES"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AEP_CLIENT_ID", "hostile-client")
    monkeypatch.setenv("AEP_CLIENT_SECRET", "hostile-client-secret-value")
    monkeypatch.setenv("AEP_IMS_URL", "https://ims.example.test")
    monkeypatch.setenv("AEP_PLATFORM_URL", "https://platform.example.test")
    return install


def _empty(request: httpx.Request) -> httpx.Response:
    return httpx.Response(200, json={"items": []})


@pytest.mark.parametrize("name", sorted(CASES))
def test_hostile_manifests_fail_before_any_request(
    tmp_path: Path, use_api: Callable[[Handler], Api], name: str
) -> None:
    api = use_api(_empty)
    content = CASES[name]
    path = tmp_path / "m.yaml"
    if isinstance(content, bytes):
        path.write_bytes(content)
    else:
        path.write_text(content, encoding="utf-8", errors="surrogatepass", newline="")
    run = run_cli(["plan", str(path)])
    check(run)
    if run.code == 1:
        assert api.requests == []


def _manifest(tmp_path: Path) -> str:
    path = tmp_path / "m.yaml"
    path.write_text(MANIFEST, encoding="utf-8")
    return str(path)


def _json(status: int, body: object) -> Handler:
    return lambda request: httpx.Response(status, json=body)


def _raw(status: int, body: bytes, content_type: str = "text/html") -> Handler:
    return lambda request: httpx.Response(
        status, content=body, headers={"Content-Type": content_type}
    )


def _self_loop(request: httpx.Request) -> httpx.Response:
    return httpx.Response(200, json={"items": [], "_links": {"next": {"href": str(request.url)}}})


def _endless(request: httpx.Request) -> httpx.Response:
    page = int(request.url.params.get("continuationToken", "0")) + 1
    href = f"/connections?limit=100&continuationToken={page}"
    return httpx.Response(200, json={"items": [], "_links": {"next": {"href": href}}})


HTML = b"<html><head><title>502 Bad Gateway</title></head><body>\n<h1>Oops</h1>\n</body></html>"
RESPONSES: dict[str, tuple[Handler, str]] = {
    "html-page-200": (_raw(200, HTML), "response is not JSON: <html><head><title>502 Bad Gateway"),
    "html-error-404": (_raw(404, HTML), "returned 404: <html><head><title>502 Bad Gateway"),
    "truncated-json": (_raw(200, b'{"items": [{"id": "a", "na', "application/json"), "not JSON"),
    "empty-body": (_raw(200, b"", "application/json"), "response is not JSON: an empty body"),
    "json-list": (_json(200, []), "response is not a JSON object"),
    "items-not-list": (_json(200, {"items": {}}), "response has no 'items' list"),
    "item-not-object": (_json(200, {"items": ["x"]}), "items[0] is not an object"),
    "id-not-string": (_json(200, {"items": [{"id": 1, "name": "n"}]}), "has no string 'id'"),
    "links-not-object": (_json(200, {"items": [], "_links": []}), "'_links' that is not an object"),
    "next-not-string": (
        _json(200, {"items": [], "_links": {"next": {"href": 7}}}),
        "'_links.next' without a string 'href'",
    ),
    "next-elsewhere": (
        _json(200, {"items": [], "_links": {"next": {"href": "https://evil.test/c"}}}),
        "next page link leaves https://platform.example.test: https://evil.test/c",
    ),
    "next-loops": (_self_loop, "next page link loops back to"),
    "endless-chain": (_endless, "more than 10000 pages; stopped following _links.next"),
    "huge-html": (_raw(200, b"<html>" + b"A" * 20_000_000), "response is not JSON: <html>AAAA"),
    "redirect": (
        lambda r: httpx.Response(302, headers={"Location": "https://evil.test/"}),
        "returned 302",
    ),
}


@pytest.mark.parametrize("name", sorted(RESPONSES))
def test_malformed_listings_end_plan_with_one_clear_line(
    tmp_path: Path, use_api: Callable[[Handler], Api], name: str
) -> None:
    handler, problem = RESPONSES[name]
    api = use_api(handler)
    started = time.monotonic()
    run = run_cli(["plan", _manifest(tmp_path)])
    assert time.monotonic() - started < 30
    check(run, reported_on_stdout=True)
    assert run.code == 1
    failures = [line for line in run.out.splitlines() if "cannot list connections" in line]
    assert len(failures) == 3, run.out  # prod, dev, prod-aws: each names its own request
    for line in failures:
        assert "failed: GET " in line and LIST.search(line), line
        assert problem in line, line
        assert len(line) < 700, line[:200]
    assert "hostile-client-secret-value" not in run.out + run.err
    assert all(r.url.host in ("ims.example.test", "platform.example.test") for r in api.requests)


def test_a_valid_plan_against_the_fake_api_succeeds(
    tmp_path: Path, use_api: Callable[[Handler], Api]
) -> None:
    use_api(_empty)
    run = run_cli(["plan", "--format", "json", _manifest(tmp_path)])
    check(run, allowed=[0])
    assert json.loads(run.out)["connections"]


def test_the_page_cap_error_names_method_and_url(
    tmp_path: Path, use_api: Callable[[Handler], Api]
) -> None:
    from provisioner.errors import ApiError
    from provisioner.remote.client import Credentials, Endpoints, FlowServiceClient

    api = Api(_endless)
    client = FlowServiceClient(
        httpx.Client(transport=httpx.MockTransport(api)),
        Credentials("id", "secret-value"),
        Endpoints("https://ims.example.test", "https://platform.example.test"),
        max_pages=5,
    )
    with pytest.raises(ApiError) as caught:
        client.list_connections("o", "prod", spec_id="s")
    assert "GET https://platform.example.test/" in str(caught.value)
