"""The verify reports from literal results: markdown escaping and GitHub's size limit, the
text view's order, the JSON document's version."""

from __future__ import annotations

import io
from pathlib import Path

from provisioner.connectors.postgres.auth import BasicAuth
from provisioner.errors import Location
from provisioner.model import DesiredConnection, SecretRef
from provisioner.report.markdown import GITHUB_COMMENT_LIMIT
from provisioner.report.verify import document, render_markdown, write_text
from provisioner.verify.checks import Check, Status, Verification

HERE = Location("m.yaml", 7, 5)
REF = SecretRef("env", "PW", Path("."), HERE)


def desired(name: str, sandbox: str = "prod") -> DesiredConnection:
    auth = BasicAuth("pg", 5432, "orders", "reader", REF, "require")
    return DesiredConnection("ORG@AdobeOrg", sandbox, "azure", name, None, auth, HERE)


def test_markdown_escapes_names_and_reasons_from_pull_requests() -> None:
    result = Verification(
        "api",
        (Check(desired("a|b<script>`x`"), Status.UNREACHABLE, "bad | <b>reason</b>\nnext"),),
    )
    text = render_markdown(result)
    assert (
        "| prod | a\\|b&lt;script&gt;'x' | unreachable | bad \\| &lt;b&gt;reason&lt;/b&gt;\\nnext |"
        in text
    )
    assert "<script>" not in text and "<b>" not in text


def test_markdown_stays_under_githubs_limit_and_says_what_it_cut() -> None:
    checks = tuple(
        Check(desired(f"conn-{i:05d}"), Status.UNREACHABLE, "x" * 200) for i in range(1000)
    )
    text = render_markdown(Verification("api", checks))
    assert len(text) < GITHUB_COMMENT_LIMIT
    shown = text.count("| unreachable |")
    assert 100 < shown < 1000
    assert text.endswith(
        f"\n_{1000 - shown} more entr(ies) not shown: the comment would exceed GitHub's limit. "
        "See `provision verify --format json` for every entry._\n"
    )


def test_text_groups_by_sandbox_and_passes_with_missing_only() -> None:
    result = Verification(
        "direct",
        (
            Check(desired("one"), Status.OK, tables=()),
            Check(desired("two", "dev"), Status.MISSING, "not created yet; apply creates it"),
        ),
    )
    out = io.StringIO()
    write_text(result, out, colour=False)
    assert out.getvalue() == (
        "Verifying 2 connection(s) directly from this machine\n"
        "sandbox prod (azure, ORG@AdobeOrg)\n"
        "  ok       one\n"
        "             tables: (no tables visible to this user)\n"
        "sandbox dev (azure, ORG@AdobeOrg)\n"
        "  missing  two: not created yet; apply creates it  (m.yaml:7)\n"
        "Verify passed: 1 ok, 1 missing.\n"
    )
    assert result.passed
    assert document(result)["summary"]["text"] == "Verify passed: 1 ok, 1 missing."
    assert document(Verification("api", ()))["summary"]["text"] == (
        "Verify passed: nothing to verify."
    )


def test_thousands_of_tables_wrap_between_names() -> None:
    tables = (*(f"s.t{i:04d}" for i in range(3008)), '"my schema"."a table"')
    out = io.StringIO()
    write_text(
        Verification("direct", (Check(desired("orders"), Status.OK, tables=tables),)),
        out,
        colour=False,
    )
    lines = out.getvalue().splitlines()
    table_lines = lines[3:-1]
    assert max(len(line) for line in table_lines) <= 100
    assert table_lines[0].startswith(" " * 8 + "tables: s.t0000, s.t0001, ")
    assert all(line.startswith(" " * 16) for line in table_lines[1:])
    # Every name whole, once, in order: a quoted name with a space is never split.
    names = " ".join(line.strip() for line in table_lines).removeprefix("tables: ")
    assert names.split(", ") == list(tables)
