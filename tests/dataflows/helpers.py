"""Dataflow records built by hand, as a manifest would declare them."""

from __future__ import annotations

from typing import Any

from provisioner.dataflow import DesiredDataflow, Incremental, MappingRule, Schedule
from provisioner.errors import Location

ORG = "0123456789ABCDEF01234567@AdobeOrg"
# 2026-01-01T00:00:00Z, the emulator suites' clock.
NOW = 1767225600.0


def desired(**changes: Any) -> DesiredDataflow:
    fields: dict[str, Any] = {
        "org": ORG,
        "sandbox": "prod",
        "connection": "orders-prod",
        "table": "public.orders",
        "name": "orders-prod/public.orders",
        "description": "orders into AEP",
        "dataset": "Orders",
        "columns": ("id", "email", "updated_at"),
        "incremental": Incremental("updated_at"),
        "schedule": Schedule("minute", 15, None, True),
        "mapping": (
            MappingRule("attribute", "id", "_id"),
            MappingRule("expression", "lower(email)", "personalEmail.address"),
        ),
        "enabled": True,
        "source": Location("dataflows.yaml", 7, 9),
        "owner": "team-orders",
    }
    fields.update(changes)
    return DesiredDataflow(**fields)
