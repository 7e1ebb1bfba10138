"""Shared pieces of the hostile-input suite: a valid manifest to mutate, the CLI driven
in-process with real encodings, and the one assertion every hostile run must pass."""

from __future__ import annotations

import dataclasses
import io
import os
import re
from collections.abc import Sequence
from contextlib import redirect_stderr, redirect_stdout
from datetime import timedelta

from hypothesis import HealthCheck, settings

from provisioner.cli import main as cli

SOAK = os.environ.get("PROVISION_SOAK", "") not in ("", "0")
# Examples per property test: a default run stays fast, `PROVISION_SOAK=1` digs deeper.
EXAMPLES = 5000 if SOAK else 200

FUZZ = settings(
    max_examples=EXAMPLES,
    # Generous: the point is to catch a hang or a blow-up, not a slow CI machine.
    deadline=timedelta(seconds=5),
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)

MANIFEST = """\
version: 1
org: 0123456789ABCDEF01234567@AdobeOrg
vars:
  domain: db.example.test
sandboxes:
  - name: prod
    cloud: azure
    vars: {tier: gold}
  - name: dev
    cloud: azure
  - name: prod-aws
    cloud: aws
connections:
  - name: "orders-{{ sandbox.name }}"
    description: "Orders ({{ sandbox.name }}, {{ vars.tier | default('none') }})"
    sandboxes: [prod, dev]
    auth:
      type: basic
      server: "pg-{{ sandbox.name }}.{{ vars.domain }}"
      port: 5432
      database: orders
      username: aep_reader
      password: {env: ORDERS_PG_PASSWORD}
      ssl: verify-full
  - name: billing
    sandboxes: [prod]
    auth:
      type: connection-string
      connection_string: {env: BILLING_PG_DSN}
  - name: crm
    sandboxes: [dev]
    auth:
      type: connection-string
      server: crm.db.example.test
      port: 5432
      database: crm
      username: aep_reader
      password: {file: secrets/crm.txt}
      encryption: ssl
      validate_server_certificate: true
  - name: inventory
    sandboxes: [prod-aws]
    auth:
      type: basic
      server: pg-inventory.db.example.test
      database: inventory
      username: aep_inventory
      password: {env: INVENTORY_PG_PASSWORD}
      ssl: require
"""
# The same manifest with a dataflow under its last connection, every dataflow field used
# once: the canary and fuzz suites enumerate their places from it.
MANIFEST_WITH_DATAFLOWS = (
    MANIFEST
    + """    dataflows:
      - table: public.stock
        name: "stock-{{ sandbox.name }}"
        description: "Stock levels ({{ sandbox.name }})"
        dataset: "Stock ({{ vars.domain }})"
        columns: [sku, level, changed_at]
        incremental: {column: changed_at, date_format: "yyyy-MM-dd HH:mm:ss", timezone: UTC}
        schedule: {frequency: minute, interval: 15, start: "2027-01-01T00:00:00Z", backfill: true}
        mapping:
          - {source: sku, destination: _id}
          - {expression: "level * 1", destination: "_acme.level"}
        enabled: true
"""
)

# `file:line:column: $.path: message`, the path exactly as yamlload.format_path writes it.
LOCATED = re.compile(
    r"(?P<file>.+?):(?P<line>[1-9][0-9]*):(?P<column>[1-9][0-9]*): "
    r'\$(?:\.[A-Za-z_][A-Za-z0-9_-]*|\[[0-9]+\]|\["(?:[^"\\\n]|\\.)*"\])*: \S.*'
)
SUMMARY = re.compile(r"[1-9][0-9]* problems? found; nothing was done\.")
FILE_LEVEL = re.compile(r"error: \S.*")
# A slow listing or a retry says so on stderr after 2 s (remote/client/notices.py); on a
# loaded machine a hostile endless chain of pages takes that long. Not a problem report.
NOTICE = re.compile(
    r"provision: (?:waiting for (?:IMS \(the access token\)|the Flow Service): \S.*"
    r"|listing sandboxes: \d+/\d+ read, \d+ connection\(s\) so far"
    r"|list connections in sandbox '[^']+': \d+ read so far \(page \d+\))"
)

tried = 0  # hostile inputs run through the CLI, reported at the end of the session


@dataclasses.dataclass(frozen=True)
class Run:
    code: int
    out: str
    err: str


def run_cli(argv: Sequence[str]) -> Run:
    """`provision ARGV` in-process, on streams that encode like a terminal's: stdout refuses
    what UTF-8 cannot encode (a lone surrogate would crash a real run), stderr escapes it."""
    out = io.TextIOWrapper(io.BytesIO(), encoding="utf-8", newline="", write_through=True)
    err = io.TextIOWrapper(
        io.BytesIO(), encoding="utf-8", errors="backslashreplace", newline="", write_through=True
    )
    with redirect_stdout(out), redirect_stderr(err):
        code = cli.main(list(argv))
    return Run(code, _text(out), _text(err))


def _text(stream: io.TextIOWrapper) -> str:
    buffer = stream.buffer
    assert isinstance(buffer, io.BytesIO)
    return buffer.getvalue().decode("utf-8")


def check(run: Run, *, allowed: Sequence[int] = (0, 1), reported_on_stdout: bool = False) -> None:
    """What every hostile input must end in: 0 or 1, and on 1 only located messages
    (`reported_on_stdout`: a plan that failed to list says so in the plan itself)."""
    global tried
    tried += 1
    assert "Traceback" not in run.err, run.err
    assert "internal error" not in run.err, run.err
    assert run.code in allowed, (run.code, run.err)
    if run.code == 1:
        lines = run.err.splitlines()
        assert lines or reported_on_stdout, "exit 1 without saying why"
        problems = [line for line in lines if not NOTICE.fullmatch(line)]
        assert problems or reported_on_stdout, "exit 1 without saying why"
        for line in problems:
            assert (
                LOCATED.fullmatch(line) or SUMMARY.fullmatch(line) or FILE_LEVEL.fullmatch(line)
            ), f"not a located message: {line!r}\n--- stderr ---\n{run.err}"


def located(run: Run) -> list[str]:
    """The located lines of a failed run, without the closing count."""
    return [line for line in run.err.splitlines() if LOCATED.fullmatch(line)]
