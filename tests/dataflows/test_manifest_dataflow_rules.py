"""Every rule of a `dataflows:` entry, as `provision validate` reports it: one located line
each, saying what to write instead, and nothing done."""

from __future__ import annotations

from pathlib import Path

import pytest

from provisioner.cli.main import main

BASE = """\
version: 1
org: 0123456789ABCDEF01234567@AdobeOrg
sandboxes:
  - {name: prod, cloud: azure}
  - {name: dev, cloud: azure}
connections:
  - name: "orders-{{ sandbox.name }}"
    auth:
      type: basic
      server: pg.example.test
      database: orders
      username: aep
      password: {env: ORDERS_PW}
    dataflows:
      - table: public.orders
        dataset: Orders
        columns: [id, updated_at]
        incremental: updated_at
        schedule: {frequency: hour, interval: 1}
        mapping:
          - {source: id, destination: _id}
"""
BOTH = "(sandboxes 'prod', 'dev')"
AT = "m.yaml:{}: $.connections[0].dataflows[0]"

# (what the entry says instead, the whole diagnostic)
CASES = {
    "table-without-schema": (
        ("table: public.orders", "table: orders"),
        f"{AT.format('15:16')}.table: table 'orders' is not schema.table (one dot, both parts "
        f"non-empty), e.g. public.orders {BOTH}",
    ),
    "table-with-two-dots": (
        ("table: public.orders", "table: db.public.orders"),
        f"{AT.format('15:16')}.table: table 'db.public.orders' is not schema.table (one dot, "
        f"both parts non-empty), e.g. public.orders {BOTH}",
    ),
    "templated-table-renders-empty-part": (
        ("table: public.orders", "table: \"{{ sandbox.vars.schema | default('') }}.orders\""),
        f"{AT.format('15:16')}.table: table '.orders' is not schema.table (one dot, both parts "
        f"non-empty), e.g. public.orders {BOTH}",
    ),
    "interval-missing": (
        ("{frequency: hour, interval: 1}", "{frequency: hour}"),
        f"{AT.format('19:19')}.schedule: missing required key 'interval': how many hours "
        f"between runs (at least 1) {BOTH}",
    ),
    "interval-below-15-for-minute": (
        ("{frequency: hour, interval: 1}", "{frequency: minute, interval: 10}"),
        f"{AT.format('19:49')}.schedule.interval: interval 10 is less than 15, the least Adobe "
        f"allows for frequency minute {BOTH}",
    ),
    "interval-zero": (
        ("interval: 1}", "interval: 0}"),
        f"{AT.format('19:47')}.schedule.interval: interval 0 is less than 1, the least Adobe "
        f"allows for frequency hour {BOTH}",
    ),
    "interval-with-once": (
        ("{frequency: hour, interval: 1}", "{frequency: once, interval: 1}"),
        f"{AT.format('19:47')}.schedule.interval: a schedule of frequency once takes no "
        f"interval (it runs one time); remove interval: or choose minute, hour, day or week {BOTH}",
    ),
    "backfill-with-once": (
        ("{frequency: hour, interval: 1}", "{frequency: once, backfill: true}"),
        f"{AT.format('19:47')}.schedule.backfill: a schedule of frequency once takes no "
        f"backfill (it runs one time); remove backfill: or choose minute, hour, day or week {BOTH}",
    ),
    "start-without-offset": (
        ("interval: 1}", 'interval: 1, start: "2027-01-01T00:00:00"}'),
        f"{AT.format('19:57')}.schedule.start: start '2027-01-01T00:00:00' has no offset: add Z "
        f"(UTC) or +hh:mm, e.g. 2027-01-01T00:00:00Z {BOTH}",
    ),
    "start-a-date-only": (
        ("interval: 1}", "interval: 1, start: 2027-01-01}"),
        f"{AT.format('19:57')}.schedule.start: start '2027-01-01' is not an RFC 3339 time with "
        f"an offset, e.g. 2027-01-01T00:00:00Z {BOTH}",
    ),
    "start-no-such-day": (
        ("interval: 1}", "interval: 1, start: 2027-02-30T00:00:00Z}"),
        f"{AT.format('19:57')}.schedule.start: start '2027-02-30T00:00:00Z' is not a valid date "
        f"and time, e.g. 2027-01-01T00:00:00Z {BOTH}",
    ),
    "incremental-not-among-columns": (
        ("incremental: updated_at", "incremental: {column: changed_at}"),
        f"{AT.format('18:31')}.incremental.column: the incremental column 'changed_at' is not "
        f"among columns; add it there (the flow reads new rows by it) {BOTH}",
    ),
    "column-twice-after-rendering": (
        ("columns: [id, updated_at]", "columns: [id, updated_at, \"{{ 'id' }}\"]"),
        f"{AT.format('17:35')}.columns[2]: column 'id' is listed twice; list it once {BOTH}",
    ),
    "destination-twice": (
        (
            "- {source: id, destination: _id}",
            "- {source: id, destination: _id}\n"
            "          - {expression: upper(id), destination: _id}",
        ),
        f"{AT.format('22:50')}.mapping[1].destination: destination '_id' is also mapped by "
        f"mapping[0]; map each XDM field once {BOTH}",
    ),
    "source-and-expression": (
        ("{source: id, destination: _id}", "{source: id, expression: x, destination: _id}"),
        f"{AT.format('21:13')}.mapping[0]: write exactly one of: {{source, destination}} or "
        "{expression, destination}",
    ),
    "owner-mark-in-description": (
        (
            "dataset: Orders",
            'dataset: Orders\n        description: "x\\nmanaged-by: provision owner=team-b"',
        ),
        f"{AT.format('17:22')}.description: ends with an owner mark (managed-by: provision "
        "owner=...); provision writes that line itself from prune: owner, remove it from the "
        f"description {BOTH}",
    ),
    "undefined-template-name": (
        ("dataset: Orders", 'dataset: "{{ vars.lake }}"'),
        f"{AT.format('16:18')}.dataset: undefined name: 'lake'; define it under vars: or the "
        f"sandbox's vars: {BOTH}",
    ),
    "name-renders-empty-in-one-sandbox": (
        (
            "dataset: Orders",
            "dataset: Orders\n        name: \"{{ 'x' if sandbox.name == 'prod' }}\"",
        ),
        f"{AT.format('17:15')}.name: the name renders empty (sandbox 'dev')",
    ),
    "unknown-key": (
        ("dataset: Orders", "dataset: Orders\n        colums: [id]"),
        f"{AT.format('17:9')}[\"colums\"]: unknown key 'colums'; did you mean 'columns'?".replace(
            '["colums"]', ".colums"
        ),
    ),
    "missing-incremental": (
        ("        incremental: updated_at\n", ""),
        f"{AT.format('15:9')}: missing required key 'incremental'",
    ),
}


@pytest.fixture
def folder(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.chdir(tmp_path)
    return tmp_path


def _validate(capsys: pytest.CaptureFixture[str], *paths: str) -> tuple[int, str, str]:
    code = main(["validate", *paths])
    captured = capsys.readouterr()
    return code, captured.out, captured.err


@pytest.mark.parametrize("case", sorted(CASES))
def test_each_rule_is_one_located_line(
    folder: Path, capsys: pytest.CaptureFixture[str], case: str
) -> None:
    (old, new), expected = CASES[case]
    assert old in BASE
    (folder / "m.yaml").write_text(BASE.replace(old, new, 1), encoding="utf-8")
    assert _validate(capsys, "m.yaml") == (
        1,
        "",
        f"{expected}\n1 problem found; nothing was done.\n",
    )


def test_the_base_manifest_is_valid(folder: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (folder / "m.yaml").write_text(BASE, encoding="utf-8")
    assert _validate(capsys, "m.yaml")[0] == 0


SECOND = """\
      - table: public.orders
        name: "{{ sandbox.name }}-again"
        dataset: Orders
        incremental: updated_at
        schedule: {frequency: day, interval: 1}
        mapping: [{source: id, destination: _id}]
"""


def test_a_table_declared_twice_on_one_connection_names_both_places(
    folder: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (folder / "m.yaml").write_text(BASE + SECOND, encoding="utf-8")
    code, out, err = _validate(capsys, "m.yaml")
    assert (code, out) == (1, "")
    assert err.splitlines() == [
        f"m.yaml:22:9: $.connections[0].dataflows[1]: table 'public.orders' of connection "
        f"'orders-{sandbox}' in sandbox '{sandbox}' already flows by the dataflow at "
        "m.yaml:15:9; declare each table once per connection"
        for sandbox in ("dev", "prod")
    ] + ["2 problems found; nothing was done."]


def test_two_dataflows_rendering_to_one_name_across_files_name_both_places(
    folder: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (folder / "m.yaml").write_text(BASE, encoding="utf-8")
    other = BASE.replace("orders-{{ sandbox.name }}", "ledger-{{ sandbox.name }}").replace(
        "table: public.orders", "table: public.ledger\n        name: orders-prod/public.orders"
    )
    (folder / "n.yaml").write_text(other, encoding="utf-8")
    code, out, err = _validate(capsys, "m.yaml", "n.yaml")
    assert (code, out) == (1, "")
    assert err.splitlines() == [
        "n.yaml:15:9: $.connections[0].dataflows[0]: dataflow name 'orders-prod/public.orders' "
        "in sandbox 'prod' is also the name of the dataflow at m.yaml:15:9; names must be "
        "unique within a sandbox (set name: on one of them)",
        "1 problem found; nothing was done.",
    ]
