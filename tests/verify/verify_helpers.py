"""A manifest whose connections point at the suite's real PostgreSQL servers."""

from __future__ import annotations

from provisioner.emulator import Emulator, EmulatorConfig

from .pgserver import PgServer

SANDBOXES = ("prod", "prod-aws")
# Line of each connection's entry, as the outputs name it.
LINE = {"orders": 9, "wrong-password": 18, "plain-verify-full": 28, "nowhere": 38, "billing": 48}


def manifest_text(tls: PgServer, plain: PgServer) -> str:
    return f"""\
version: 1
org: 0123456789ABCDEF01234567@AdobeOrg
sandboxes:
  - name: prod
    cloud: azure
  - name: prod-aws
    cloud: aws
connections:
  - name: orders
    auth:
      type: basic
      server: 127.0.0.1
      port: {tls.port}
      database: orders
      username: aep_reader
      password: {{env: VERIFY_GOOD_PW}}
      ssl: verify-full
  - name: wrong-password
    sandboxes: [prod]
    auth:
      type: basic
      server: 127.0.0.1
      port: {tls.port}
      database: orders
      username: aep_reader
      password: {{env: VERIFY_BAD_PW}}
      ssl: verify-full
  - name: plain-verify-full
    sandboxes: [prod]
    auth:
      type: basic
      server: 127.0.0.1
      port: {plain.port}
      database: orders
      username: aep_reader
      password: {{env: VERIFY_PLAIN_PW}}
      ssl: verify-full
  - name: nowhere
    sandboxes: [prod]
    auth:
      type: basic
      server: pg.nowhere.invalid
      port: 5432
      database: orders
      username: aep_reader
      password: {{env: VERIFY_PLAIN_PW}}
      ssl: require
  - name: billing
    sandboxes: [prod]
    auth:
      type: connection-string
      connection_string: {{env: VERIFY_DSN}}
"""


def secrets_for(tls: PgServer, plain: PgServer, bad: str = "not-the-password") -> dict[str, str]:
    return {
        "VERIFY_GOOD_PW": tls.password,
        "VERIFY_BAD_PW": bad,
        "VERIFY_PLAIN_PW": plain.password,
        "VERIFY_DSN": (
            f"Server=127.0.0.1;Database=orders;Port={tls.port};UID=aep_reader;"
            f"Password={tls.password};EncryptionMethod=1;ValidateServerCertificate=1"
        ),
    }


def connecting_emulator(tls: PgServer, timeout: float = 5.0) -> Emulator:
    return Emulator(
        EmulatorConfig(
            sandboxes=SANDBOXES,
            seed=5,
            databases="connect",
            database_timeout_s=timeout,
            database_ca_file=str(tls.ca_file),
        )
    )


def basic_manifest(*entries: tuple[str, str, int, str, str]) -> str:
    """One Azure sandbox `prod`; entries are (name, server, port, database, ssl), password
    from VERIFY_GOOD_PW."""
    text = (
        "version: 1\norg: 0123456789ABCDEF01234567@AdobeOrg\n"
        "sandboxes:\n  - {name: prod, cloud: azure}\nconnections:\n"
    )
    for name, server, port, database, ssl in entries:
        text += (
            f"  - name: {name}\n    auth:\n      type: basic\n      server: {server}\n"
            f"      port: {port}\n      database: {database}\n      username: aep_reader\n"
            f"      password: {{env: VERIFY_GOOD_PW}}\n      ssl: {ssl}\n"
        )
    return text
