"""The reporters with literal plans: text for people, JSON for machines, markdown for PRs."""

from __future__ import annotations

import dataclasses
import io

from provisioner import __version__
from provisioner.connectors.postgres.auth import ConnectionStringSecret
from provisioner.errors import Location
from provisioner.manifests.selection import Selection
from provisioner.model import PruneRule
from provisioner.plan.make import ListingFailed, Plan, PlanOptions, make_plan
from provisioner.plan.planfile import desired_digest
from provisioner.report.jsonplan import plan_document
from provisioner.report.markdown import GITHUB_COMMENT_LIMIT, render_markdown
from provisioner.report.text import write_text

from .plan_literals import ORG, desired, desired_dsn, remote


def mixed_plan() -> Plan:
    return make_plan(
        [
            desired("orders"),
            desired("crm", line=20),
            desired("inv", line=30),
            desired("dup", line=40),
            desired("orders", "dev"),
        ],
        {
            (ORG, "prod"): [
                remote("crm", "c-1"),
                remote("inv", "i-1", server="pg-old.example.test"),
                remote("dup", "d-1"),
                remote("dup", "d-2"),
                remote("legacy", "l-1"),
            ],
            (ORG, "dev"): ListingFailed("list connections in sandbox 'dev' failed: boom"),
        },
    )


def text(plan: Plan, **options: bool) -> str:
    out = io.StringIO()
    write_text(plan, out, colour=options.pop("colour", False), **options)
    return out.getvalue()


TEXT = f"""\
sandbox prod (azure, {ORG}): 1 unchanged, 1 unmanaged, left alone
  + orders  reader@pg.example.test:5432/orders ssl=verify-full  (team/orders.yaml:10)
  ~ inv  (i-1) drifted, not changed by apply
      server: 'pg-old.example.test' -> 'pg.example.test'
  ! dup  ERROR: 2 connections share this name (d-1, d-2); nothing will be done for it until \
only one remains
sandbox dev (azure, {ORG})
  ? cannot list connections: list connections in sandbox 'dev' failed: boom
Plan: 1 to add, 1 unchanged, 1 drifted. 2 in error.
"""


def test_text_symbols_and_summary_without_colour() -> None:
    assert text(mixed_plan()) == TEXT
    assert "\033" not in text(mixed_plan(), verbose=True)


def test_text_verbose_lists_the_unchanged_too() -> None:
    # And, since issue 22, the unmanaged connections it leaves alone.
    assert text(mixed_plan(), verbose=True) == TEXT.replace(
        "  + orders  reader@pg.example.test:5432/orders ssl=verify-full  (team/orders.yaml:10)\n",
        "  + orders  reader@pg.example.test:5432/orders ssl=verify-full  (team/orders.yaml:10)\n    crm\n",
    ).replace("only one remains\n", "only one remains\n    legacy  unmanaged, left alone\n")


def test_text_colour_only_when_asked() -> None:
    coloured = text(mixed_plan(), colour=True)
    assert (
        "\033[32m  + orders  reader@pg.example.test:5432/orders ssl=verify-full  (team/orders.yaml:10)\033[0m\n"
        in coloured
    )
    assert "\033[33m  ~ inv  (i-1) drifted, not changed by apply\033[0m\n" in coloured
    assert "\033[31m  ? cannot list connections: " in coloured
    assert (
        coloured.replace("\033[32m", "")
        .replace("\033[33m", "")
        .replace("\033[31m", "")
        .replace("\033[0m", "")
        == TEXT
    )


MARKDOWN = """\
### provision plan

**Plan: 1 to add, 1 unchanged, 1 drifted. 2 in error.**

| sandbox | cloud | to add | to change | to delete | unchanged | drifted | errors | unmanaged |
|---|---|---:|---:|---:|---:|---:|---:|---:|
| prod | azure | 1 | 0 | 0 | 1 | 1 | 1 | 1 |
| dev | azure | 0 | 0 | 0 | 0 | 0 | 1 | 0 |

> [!WARNING]
> Some names match several remote connections; apply skips them.

<details><summary>prod: 3 change(s) or problem(s)</summary>

<pre>
+ orders   reader@pg.example.test:5432/orders ssl=verify-full   # team/orders.yaml:10
~ inv   # drifted: server 'pg-old.example.test' -&gt; 'pg.example.test'
! dup   # ERROR: 2 connections share this name
</pre>
</details>

<details><summary>dev: 1 change(s) or problem(s)</summary>

<pre>
? cannot list connections: list connections in sandbox 'dev' failed: boom
? orders   # sandbox could not be listed
</pre>
</details>
"""


def test_markdown_summary_table_and_folded_details() -> None:
    assert render_markdown(mixed_plan()) == MARKDOWN


def test_markdown_escapes_hostile_names() -> None:
    hostile = "a|b<script>alert(1)</script>`x`"
    plan = make_plan([desired(hostile, "x|y<b>")], {(ORG, "x|y<b>"): []})
    comment = render_markdown(plan)
    assert "<script>" not in comment and "<b>" not in comment
    assert "| x\\|y&lt;b&gt; | azure | 1 | 0 | 0 | 0 | 0 | 0 | 0 |\n" in comment
    assert "<summary>x\\|y&lt;b&gt;: 1 change(s) or problem(s)</summary>" in comment
    assert (
        "+ a|b&lt;script&gt;alert(1)&lt;/script&gt;`x`   reader@pg.example.test:5432/orders ssl=verify-full   # team/orders.yaml:10\n"
        in comment
    )


def test_markdown_stays_under_githubs_limit_and_points_at_the_json() -> None:
    wanted = [
        desired(f"orders-connection-with-a-long-name-{i:05d}", sandbox, line=i + 1)
        for sandbox in ("prod", "dev")
        for i in range(3000)
    ]
    plan = make_plan(wanted, {(ORG, "prod"): [], (ORG, "dev"): []})
    comment = render_markdown(plan, full_plan_hint="the full plan in plan.json")
    assert len(comment) <= GITHUB_COMMENT_LIMIT
    assert (
        "| prod | azure | 3000 | 0 | 0 | 0 | 0 | 0 | 0 |\n| dev | azure | 3000 | 0 | 0 | 0 | 0 | 0 | 0 |\n"
        in (comment)
    )
    shown = comment.count("\n+ orders-connection-with-a-long-name-")
    assert 500 < shown < 6000
    assert comment.endswith(
        f"\n_{6000 - shown} more line(s) not shown: the comment would exceed GitHub's limit. "
        "See the full plan in plan.json for every entry._\n"
    )
    assert comment.count("<pre>") == comment.count("</pre>")  # no block left open


def test_json_plan_document() -> None:
    plan = make_plan(
        [desired("orders"), desired_dsn("billing"), desired("inv", line=40)],
        {(ORG, "prod"): [remote("inv", "i-1", port="6432", created_at=1700000000123)]},
    )
    document = plan_document(
        plan, paths=["team/"], selection=Selection(("prod",), ("*",)), digest="sha256:d"
    )
    spec = {"id": "74a1c565-4e59-48d7-9d67-7c03b8a13137", "version": "1.0"}
    params = {
        "server": "pg.example.test",
        "port": "5432",
        "database": "orders",
        "username": "reader",
        "password": "(sensitive)",
        "sslMode": "Verify Full",
    }
    common = {"org": ORG, "sandbox": "prod", "cloud": "azure"}
    assert document == {
        "format": "provision-plan",
        "format_version": 2,
        "provision_version": __version__,
        "manifests": {
            "paths": ["team/"],
            "sandboxes": ["prod"],
            "connections": ["*"],
            "digest": "sha256:d",
            "files": None,
            "whole_set": None,
        },
        "options": {"update": False, "rotate_secrets": False, "prune": False},
        "summary": {
            "add": 2,
            "create": 2,
            "drift": 1,
            "delete": 0,
            "unmanaged": 0,
            "text": "Plan: 2 to add, 0 unchanged, 1 drifted.",
        },
        "orgs": [{"org": ORG, "add": 2, "text": "Plan: 2 to add, 0 unchanged, 1 drifted."}],
        "sandboxes": [{**common, "unmanaged": 0, "error": None, "kept": []}],
        "connections": [
            {
                "action": "create",
                **common,
                "name": "orders",
                "source": "team/orders.yaml:10",
                "owner": None,
                "observed": [],
                "drift": [],
                "payload": {
                    "name": "orders",
                    "description": "Orders",
                    "auth": {"specName": "Basic Authentication", "params": params},
                    "connectionSpec": spec,
                },
            },
            {
                "action": "create",
                **common,
                "name": "billing",
                "source": "team/orders.yaml:30",
                "owner": None,
                "observed": [],
                "drift": [],
                "payload": {
                    "name": "billing",
                    "auth": {
                        "specName": "Connection String Based Authentication",
                        "params": {"connectionString": "(sensitive)"},
                    },
                    "connectionSpec": spec,
                },
            },
            {
                "action": "drift",
                **common,
                "name": "inv",
                "source": "team/orders.yaml:40",
                "owner": None,
                "observed": [
                    {"id": "i-1", "etag": '"etag-i-1"', "createdAt": 1700000000123, "owner": None}
                ],
                "drift": [{"field": "port", "desired": "5432", "observed": "6432"}],
                "payload": {
                    "name": "inv",
                    "description": "Orders",
                    "auth": {"specName": "Basic Authentication", "params": params},
                    "connectionSpec": spec,
                },
            },
        ],
        "deletions": [],
        "lookalikes": [],
    }


def test_digest_follows_what_would_be_sent_not_where_it_is_written() -> None:
    base = [desired("orders"), desired_dsn("billing")]
    digest = desired_digest(base)
    assert digest.startswith("sha256:") and len(digest) == 7 + 64
    moved = [desired("orders", line=99), desired_dsn("billing", line=77)]
    assert desired_digest(moved) == digest  # a comment above an entry is no change
    assert desired_digest(list(reversed(base))) == digest
    assert desired_digest([desired("orders", port=6432), base[1]]) != digest
    dsn = base[1].auth
    assert isinstance(dsn, ConnectionStringSecret)
    other = dataclasses.replace(dsn.connection_string, name="OTHER_DSN")
    renamed = dataclasses.replace(base[1], auth=ConnectionStringSecret(other))
    assert desired_digest([base[0], renamed]) != digest  # another secret is another plan


def test_lifecycle_actions_in_every_report() -> None:
    rule = PruneRule(ORG, "prod", "azure", ("old-*",), Location("team/orders.yaml", 3, 1), "team-a")
    plan = make_plan(
        [desired("inv", line=40), desired_dsn("billing")],
        {
            (ORG, "prod"): [
                remote("inv", "i-1", port="6432"),
                remote(
                    "billing",
                    "b-1",
                    description=None,
                    spec_name="Connection String Based Authentication",
                ),
                remote("old-crm", "x-1", description="CRM\nmanaged-by: provision owner=team-a"),
                remote("old-by-hand", "h-1"),  # claimed, but not team-a's: left alone
            ]
        },
        options=PlanOptions(update=True, rotate=True, prune=True),
        rules=[rule],
        usage={(ORG, "prod"): {"x-1": ("nightly",)}},
    )
    out = io.StringIO()
    write_text(plan, out, colour=False)
    assert out.getvalue() == (
        f"sandbox prod (azure, {ORG}): 1 unmanaged, left alone (1 claimed by prune but not "
        "marked by the claim's owner)\n"
        "  ~ inv  (i-1) will update and re-send its secret from {env: ORDERS_PW}\n"
        "      port: '6432' -> '5432'\n"
        "  ~ rotate billing  (b-1) will re-send its secret from {env: DSN}\n"
        "  - old-crm  (x-1) will delete: marked owner=team-a, no manifest declares it, and "
        "prune 'old-*' of owner team-a (team/orders.yaml:3) claims it; but dataflow(s) "
        "'nightly' still use it, so the API will refuse until they are deleted or repointed\n"
        "Plan: 0 to add, 1 to update, 1 to rotate, 1 to delete, 0 unchanged, 0 drifted.\n"
    )
    verbose = io.StringIO()
    write_text(plan, verbose, colour=False, verbose=True)
    assert verbose.getvalue().endswith(
        "  . old-by-hand (h-1) left alone: prune 'old-*' of owner team-a (team/orders.yaml:3) "
        "matches it, but it carries no owner mark\n"
        "Plan: 0 to add, 1 to update, 1 to rotate, 1 to delete, 0 unchanged, 0 drifted.\n"
    )
    comment = render_markdown(plan)
    assert "| prod | azure | 0 | 2 | 1 | 0 | 0 | 0 | 1 |\n" in comment
    assert "~ rotate billing   # (b-1) will re-send its secret from {env: DSN}\n" in comment
    assert "> [!CAUTION]\n> `apply --prune` deletes 1 connection(s)" in comment
    document = plan_document(plan, paths=["team/"], selection=Selection(), digest="sha256:d")
    assert document["options"] == {"update": True, "rotate_secrets": True, "prune": True}
    inv, billing = document["connections"]
    assert (inv["action"], inv["rotate"], billing["action"]) == ("update", True, "rotate")
    assert inv["patch"] == [
        {"op": "replace", "path": "/auth/params/port", "value": "5432"},
        {"op": "replace", "path": "/auth/params/password", "value": "(sensitive)"},
    ]
    assert billing["patch"] == [
        {"op": "replace", "path": "/auth/params/connectionString", "value": "(sensitive)"}
    ]
    assert document["deletions"] == [
        {
            "action": "delete",
            "org": ORG,
            "sandbox": "prod",
            "name": "old-crm",
            "id": "x-1",
            "etag": '"etag-x-1"',
            "createdAt": 1_700_000_000_000,
            "owner": "team-a",
            "rule": {"source": "team/orders.yaml:3", "pattern": "old-*", "owner": "team-a"},
        }
    ]
    assert document["sandboxes"][0]["kept"] == [
        {
            "name": "old-by-hand",
            "id": "h-1",
            "owner": None,
            "rule": {"source": "team/orders.yaml:3", "pattern": "old-*", "owner": "team-a"},
        }
    ]
    assert document["summary"]["delete"] == 1 and document["summary"]["unmanaged"] == 1
