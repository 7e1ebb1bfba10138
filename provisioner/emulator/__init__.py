"""A local Flow Service + IMS emulator (SPEC section 7). Stable API for other code:

- ``EmulatorConfig`` / ``Faults`` / ``DataflowOptions``: frozen records of how it behaves
  (see ``config.py`` and ``dataflow_options.py`` for every field and its default;
  defaults: client ``emulator-client`` / ``emulator-secret``,
  org ``0123456789ABCDEF01234567@AdobeOrg``, sandboxes ``prod, dev, stage``).
  ``databases="connect"`` makes ``/connections/{id}/test`` and ``/explore`` open a real
  PostgreSQL connection (``database_timeout_s``, ``database_ca_file``; needs psycopg); the
  default ``"offline"`` never touches the network (``.invalid`` hosts fail, the rest pass).
- ``Emulator(config=None, *, clock=time.time)``: a WSGI application (call it, or use
  ``.wsgi_app``) with
  ``.transport() -> httpx.WSGITransport`` (in-process; an injected dropped connection surfaces
  as ``httpx.RemoteProtocolError``),
  ``.connections(org=None, sandbox=None) -> list[dict]`` (raw stored records, secrets unmasked),
  ``.add_dataflow(org, sandbox, connection_id, name) -> dict`` (a whole dataflow chain on that
  base connection, which can then not be deleted: FLOW-1418-400),
  ``.add_dataset(org, sandbox, name=, schemaId=) -> dict`` (a Catalog dataset),
  ``.add_run(org, sandbox, run) -> dict`` (a run with a given outcome),
  ``.set_dataflow_options(**changes) -> DataflowOptions``, ``.state() -> dict``,
  ``.set_faults(faults=None, *, seed=None, **changes) -> Faults``,
  ``.request_count`` (token + Flow Service requests), ``.request_counts() -> dict[str, int]``,
  ``.reset_counts()``, ``.revoke_tokens(token=None) -> int``, ``.reset()``, ``.close()``.
- ``serve(emulator, host="127.0.0.1", port=0, allowed_hosts=()) -> RunningServer`` with
  ``.url``, ``.close()``, usable as a context manager; serves in daemon threads with HTTP/1.1
  keep-alive, and answers only requests whose ``Host`` is a loopback name, ``host`` itself or
  one of ``allowed_hosts`` (``hosts.py``: no DNS rebinding).
- ``main(argv=None, prog="provision emulator") -> int``: the command line.

The IMS route (``/ims/token/v3``), the Flow Service routes
(``/data/foundation/flowservice/...``: connections, connectionSpecs, sourceConnections,
targetConnections, flows, flowSpecs, runs), Data Prep (``/data/foundation/conversion/
mappingSets``) and Catalog (``/data/foundation/catalog/dataSets``) are served on one
host:port; admin routes live under ``/__emulator/`` (faults, state, tokens, requests, health,
dataflows, datasets, runs, options) and need no auth. See docs/emulator.md.

This package imports nothing else from ``provisioner``, and nothing in ``provisioner`` but the
CLI's argv forwarding should import it.
"""

from provisioner.emulator.app import Emulator
from provisioner.emulator.cli import main
from provisioner.emulator.config import EmulatorConfig, Faults
from provisioner.emulator.dataflow_options import DataflowOptions
from provisioner.emulator.server import RunningServer, serve
from provisioner.emulator.spec import POSTGRES_SPEC_ID

__all__ = [
    "POSTGRES_SPEC_ID",
    "DataflowOptions",
    "Emulator",
    "EmulatorConfig",
    "Faults",
    "RunningServer",
    "main",
    "serve",
]
