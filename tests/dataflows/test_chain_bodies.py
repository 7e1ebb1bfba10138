"""The request bodies of a chain, and the one-line error for a column the table lacks."""

from __future__ import annotations

import pytest

from provisioner.apply.chain_bodies import ChainError, chosen_columns, flow_body, source_body
from provisioner.dataflow import Incremental, Schedule

from .helpers import NOW, desired

EXPLORED = [
    {"name": "id", "type": "integer", "xdm": {"type": "integer"}},
    {"name": "updated_at", "type": "timestamp", "xdm": {"type": "string", "format": "date-time"}},
    {"name": "email", "type": "string", "xdm": {"type": "string"}},
]


def test_declared_columns_are_sent_in_the_declared_order_as_explore_gives_them() -> None:
    columns = chosen_columns(desired(), EXPLORED)
    body = source_body(desired(), "base-1", columns, spec_id="spec", spec_version="1.0")
    assert body["params"] == {
        "tableName": "public.orders",
        "columns": [EXPLORED[0], EXPLORED[2], EXPLORED[1]],
    }
    assert body["description"] == "orders into AEP\nmanaged-by: provision owner=team-orders"


def test_without_declared_columns_every_explored_column_is_sent() -> None:
    assert chosen_columns(desired(columns=None), EXPLORED) == EXPLORED


def test_a_missing_column_is_one_line_naming_the_dataflow_and_sandbox() -> None:
    wanted = desired(columns=("id", "amount\x1b[31m", "updated_at"), incremental=Incremental("ts"))
    with pytest.raises(ChainError) as raised:
        chosen_columns(wanted, EXPLORED)
    assert str(raised.value) == (
        "table 'public.orders' has no column 'amount\\x1b[31m', 'ts' (it has 'id', "
        "'updated_at', 'email'); fix the dataflow's columns or incremental column in the "
        "manifest"
    )


def test_a_flow_without_a_start_starts_a_minute_after_the_injected_clock() -> None:
    body = flow_body(desired(), "sc", "tc", "map", "0", now_s=NOW)
    assert body["scheduleParams"] == {
        "startTime": str(int(NOW) + 60),
        "frequency": "minute",
        "interval": "15",
        "backfill": "true",
    }
    assert body["transformations"] == [
        {"name": "Copy", "params": {"deltaColumn": {"name": "updated_at"}}},
        {"name": "Mapping", "params": {"mappingId": "map", "mappingVersion": "0"}},
    ]


def test_a_once_flow_sends_neither_interval_nor_backfill() -> None:
    once = desired(schedule=Schedule("once", None, 1767229200, None))
    body = flow_body(once, "sc", "tc", "map", "0", now_s=NOW)
    assert body["scheduleParams"] == {"startTime": "1767229200", "frequency": "once"}
