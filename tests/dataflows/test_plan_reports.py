"""The plan's dataflows as people (text), pull requests (markdown) and machines (JSON) see
them: under their base connection, remote names escaped."""

from __future__ import annotations

import io
import json

from provisioner import schemas
from provisioner.dataflow import Schedule
from provisioner.manifests.selection import Selection
from provisioner.plan.make import Plan, PlanOptions
from provisioner.report.jsonplan import plan_document
from provisioner.report.markdown import render_markdown
from provisioner.report.text import write_text
from tests.dataflows.literals import (
    flow,
    listing,
    mapping_set,
    plan_of,
    remote,
    source,
    target,
    wanted,
)
from tests.dataflows.test_plan_prune import MARKED, RULE

HOSTILE = "orders-old/evil\n::error::pwned"
EVERYTHING = PlanOptions(update=True, prune=True, replace_dataflows=True)
DIGEST = "sha256:" + "0" * 64


def example() -> Plan:
    """An update, a create, a hand-made flow left alone, and a pruned base connection with
    two flows of ours, one of them named to speak to the CI runner."""
    connections = [remote("orders", "c-1"), remote("orders-old", "c-old", description=MARKED)]
    stale = {"frequency": "minute", "interval": "15", "startTime": "1", "backfill": "true"}
    found = listing(
        [
            flow(state="disabled", schedule=stale),
            flow("orders-old/public.a", "f-a", base="c-old", sources=("s-a",), targets=()),
            flow(HOSTILE, "f-evil", base="c-old", sources=(), targets=(), mapping=None),
            flow("orders/by hand", "f-h", owner=None, sources=(), targets=(), mapping=None),
        ],
        [source(), source("s-a", base="c-old")],
        [target()],
        [mapping_set()],
    )
    declared = [
        wanted(schedule=Schedule("minute", 30, None, True)),
        wanted(table="public.items", name="orders/public.items"),
    ]
    return plan_of(declared, found, options=EVERYTHING, rules=[RULE], connections=connections)


TEXT = """\
sandbox prod (azure, 0123456789ABCDEF01234567@AdobeOrg): 1 unchanged
    orders
      ~ orders/public.orders  (f-1) will update: flow, state (enable)
          interval: '15' -> '30'
          state: 'disabled' -> 'enabled'
      + orders/public.items  public.items -> dataset 'Orders (PostgreSQL)' (ds-1), every 15 \
minute(s), incremental updated_at  (team/orders.yaml:14)
  - orders-old  (c-old) will delete: marked owner=team-a, no manifest declares it, and prune \
'orders*' of owner team-a (team/orders.yaml:3) claims it
      - orders-old/public.a  (f-a) will delete: marked owner=team-a, no manifest declares it, \
and prune 'orders*' of owner team-a claims its connection; then its source s-a; mapping set m-1 \
is left behind (Adobe documents no delete)
      - orders-old/evil\\n::error::pwned  (f-evil) will delete: marked owner=team-a, no manifest \
declares it, and prune 'orders*' of owner team-a claims its connection
Plan: 0 to add, 1 to delete, 1 unchanged, 0 drifted. Dataflows: 1 to add, 1 to update, 2 to \
delete, 0 unchanged.
"""


def test_text_shows_dataflows_under_their_connection_with_names_escaped() -> None:
    out = io.StringIO()
    write_text(example(), out, colour=False)
    assert out.getvalue() == TEXT


def test_verbose_text_also_shows_what_is_left_alone_and_unchanged_dataflows() -> None:
    out = io.StringIO()
    write_text(example(), out, colour=False, verbose=True)
    assert (
        "      . orders/by hand (f-h) left alone: prune 'orders*' of owner team-a matches its "
        "connection, but it carries no owner mark\n"
    ) in out.getvalue()
    unchanged = plan_of([wanted()], listing([flow()], [source()], [target()], [mapping_set()]))
    quiet, loud = io.StringIO(), io.StringIO()
    write_text(unchanged, quiet, colour=False)
    write_text(unchanged, loud, colour=False, verbose=True)
    assert quiet.getvalue() == (
        "sandbox prod (azure, 0123456789ABCDEF01234567@AdobeOrg): 1 unchanged, 1 dataflow(s) "
        "unchanged\n"
        "Plan: 0 to add, 1 unchanged, 0 drifted. Dataflows: 0 to add, 1 unchanged.\n"
    )
    assert "        orders/public.orders  (f-1)\n" in loud.getvalue()


def test_markdown_folds_dataflow_lines_into_their_sandbox_escaped() -> None:
    text = render_markdown(example())
    assert (
        "**Plan: 0 to add, 1 to delete, 1 unchanged, 0 drifted. Dataflows: 1 to add, 1 to "
        "update, 2 to delete, 0 unchanged.**"
    ) in text
    assert "<details><summary>prod: 5 change(s) or problem(s)</summary>" in text
    # The table gains a dataflows column (by plan symbol) only when there are dataflows.
    assert "| unmanaged | dataflows |\n" in text
    assert "| prod | azure | 0 | 0 | 1 | 1 | 0 | 0 | 0 | +1 ~1 -2 |\n" in text
    assert "| dataflows |" not in render_markdown(plan_of([], listing()))
    assert (
        "    - orders-old/evil\\n::error::pwned  (f-evil) will delete: marked owner=team-a"
    ) in text
    assert "      interval: '15' -&gt; '30'\n" in text
    assert "> apply deletes 2 dataflow(s) (flow, then target and source;" in text
    assert "\n::error" not in text


def test_json_puts_dataflows_under_their_connection_and_validates() -> None:
    document = plan_document(example(), paths=["team"], selection=Selection(), digest=DIGEST)
    assert list(schemas.errors(schemas.PLAN, document)) == []
    (connection,) = document["connections"]
    assert [(d["name"], d["action"]) for d in connection["dataflows"]] == [
        ("orders/public.orders", "update"),
        ("orders/public.items", "create"),
    ]
    update = connection["dataflows"][0]
    assert (update["patch"], update["toggle"], update["flow"]["etag"]) == (
        [{"op": "replace", "path": "/scheduleParams/interval", "value": "30"}],
        "enable",
        '"e-1"',
    )
    assert [(d["flow"]["name"], d["why"]) for d in document["dataflow_deletions"]] == [
        ("orders-old/public.a", "pruned"),
        (HOSTILE, "pruned"),
    ]
    assert document["options"]["replace_dataflows"] is True
    assert (document["summary"]["dataflows_add"], document["summary"]["dataflows_delete"]) == (1, 2)
    # The hostile name reaches a JSON reader intact, and a CI log reading the text does not
    # see a command.
    from provisioner.escape import json_text

    shown = json_text(document)
    assert json.loads(shown)["dataflow_deletions"][1]["flow"]["name"] == HOSTILE
    assert "\n::error" not in shown


def test_a_plan_without_dataflows_writes_the_json_it_always_did() -> None:
    plain = plan_of([], listing())
    document = plan_document(plain, paths=["team"], selection=Selection(), digest=DIGEST)
    assert "dataflows" not in document["connections"][0]
    assert not {"dataflow_deletions", "dataflows_left_alone"} & set(document)
    assert document["options"] == {"update": True, "rotate_secrets": False, "prune": False}
