"""Configuration records for the emulator.

Every behaviour the reference marks [open] is a field here with a documented default, so a
test or a rehearsal can switch it instead of the emulator silently guessing:

==================  =========================================  ==================================
choice              default                                    other values
==================  =========================================  ==================================
page size           20 without ``limit``; ``limit`` clamped    ``page_size``, ``max_page_size``
                    to 100 (not refused)
``port`` type       JSON string of digits only (SPEC §3)       ``"string-or-integer"``
``sslMode``         Disable, Allow, Prefer, Require,           any tuple of spellings
                    Verify Ca, Verify Full, true, false
secret masking      ``"stars"``: ``********``                  ``"drop"`` (omitted),
                                                               ``"encrypted"`` (``ENC(<hash>)``)
sandboxes           fixed list ``prod, dev, stage``            ``any_sandbox=True``
sandbox cloud       ``clouds`` names it; else the first        ``clouds``: ``azure`` or ``aws``
                    connection whose form belongs to one       per sandbox (see ``clouds.py``);
                    cloud pins the sandbox to it               ``unnamed_cloud="azure"``: AEP's
                                                               default cloud; ``lenient``: both
                                                               clouds' forms, never pinned
strictness          unknown body keys, filter and orderby      ``lenient=True``: dropped / an
                    fields are 400 with "did you mean";        empty match, the older readings
                    tokens must not be mixed with another
                    query
dataflow choices    see ``DataflowOptions`` (dataflow_options.py)
``/test``,          ``"offline"``: ``.invalid`` hosts fail,    ``"connect"``: a real PostgreSQL
``/explore``        the rest work; no tables                   connection per call
==================  =========================================  ==================================
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

from provisioner.emulator.dataflow_options import DataflowOptions

DEFAULT_CLIENT_ID = "emulator-client"
# Not a real secret: it only unlocks this local emulator, so printing it is fine.
DEFAULT_CLIENT_SECRET = "emulator-secret"
DEFAULT_ORG = "0123456789ABCDEF01234567@AdobeOrg"
DEFAULT_SANDBOXES = ("prod", "dev", "stage")
# Adobe's IMS answers expires_in=86399 (seconds) for server-to-server tokens.
DEFAULT_TOKEN_LIFETIME = 86399
# [open] Adobe publishes neither; 20 matches what widely used clients ask for.
DEFAULT_PAGE_SIZE = 20
DEFAULT_MAX_PAGE_SIZE = 100
DEFAULT_MAX_BODY_BYTES = 1024 * 1024
# [doc, inconsistent] Azure spellings from both Adobe pages, plus AWS's boolean-as-string.
DEFAULT_SSL_MODES = (
    "Disable",
    "Allow",
    "Prefer",
    "Require",
    "Verify Ca",
    "Verify Full",
    "true",
    "false",
)

CLOUDS = ("azure", "aws")
# A connect-mode /test or /explore gives up after this long (connect, TLS, auth, query).
DEFAULT_DATABASE_TIMEOUT = 5.0

MaskStyle = Literal["stars", "drop", "encrypted"]
UnnamedCloud = Literal["pinned", "azure"]
UNNAMED_CLOUDS: tuple[UnnamedCloud, ...] = ("pinned", "azure")
DatabaseMode = Literal["offline", "connect"]
DATABASE_MODES: tuple[DatabaseMode, ...] = ("offline", "connect")
PortType = Literal["string", "string-or-integer"]
MASK_STYLES: tuple[MaskStyle, ...] = ("stars", "drop", "encrypted")
PORT_TYPES: tuple[PortType, ...] = ("string", "string-or-integer")


@dataclass(frozen=True)
class Faults:
    """What goes wrong, and how often. Rates are probabilities in [0, 1].

    Faults apply to the Flow Service routes (and to the token route when ``apply_to_token``),
    never to the admin routes.
    """

    latency_ms: float = 0.0
    latency_jitter_ms: float = 0.0
    rate_429: float = 0.0
    # Share of the injected 429s that carry no Retry-After header (the gateway sometimes omits it).
    rate_429_no_retry_after: float = 0.0
    retry_after_s: int = 1
    rate_5xx: float = 0.0
    # The same for writes only (POST, PATCH, DELETE): an outage of the writing side while
    # listings still work, the case apply's breaker is for.
    rate_5xx_writes: float = 0.0
    # A create is stored, then the client sees a 500 / a dropped connection instead of a 201.
    rate_commit_then_500: float = 0.0
    rate_commit_then_drop: float = 0.0
    # Forces pages no larger than this, whatever `limit` asks (None: no override).
    page_size: int | None = None
    apply_to_token: bool = False
    # The gateway's throttle (see ratelimit.py): requests per second per org on the Flow
    # Service routes, GETs included; None: no limit. The bucket holds `rate_limit_burst`
    # requests (None: a tenth of a second's worth). Its 429s carry Retry-After only if asked.
    rate_limit: float | None = None
    rate_limit_burst: int | None = None
    rate_limit_retry_after: bool = False

    def validate(self) -> None:
        rates = {
            "rate_429": self.rate_429,
            "rate_429_no_retry_after": self.rate_429_no_retry_after,
            "rate_5xx": self.rate_5xx,
            "rate_5xx_writes": self.rate_5xx_writes,
            "rate_commit_then_500": self.rate_commit_then_500,
            "rate_commit_then_drop": self.rate_commit_then_drop,
        }
        for name, rate in rates.items():
            if not 0.0 <= rate <= 1.0:
                raise ValueError(f"{name} must be between 0 and 1, got {rate}")
        if self.latency_ms < 0 or self.latency_jitter_ms < 0:
            raise ValueError("latency must not be negative")
        if self.retry_after_s < 0:
            raise ValueError("retry_after_s must not be negative")
        if self.page_size is not None and self.page_size < 1:
            raise ValueError(f"page_size must be at least 1, got {self.page_size}")
        if self.rate_limit is not None and not self.rate_limit > 0:
            raise ValueError(
                f"rate_limit must be above 0 (or null: no limit), got {self.rate_limit}"
            )
        if self.rate_limit_burst is not None and self.rate_limit_burst < 1:
            raise ValueError(f"rate_limit_burst must be at least 1, got {self.rate_limit_burst}")


@dataclass(frozen=True)
class EmulatorConfig:
    """Everything an :class:`~provisioner.emulator.Emulator` is started with."""

    client_id: str = DEFAULT_CLIENT_ID
    client_secret: str = DEFAULT_CLIENT_SECRET
    orgs: tuple[str, ...] = (DEFAULT_ORG,)
    # Orgs with a client credential of their own, as (org, client_id, client_secret): such an
    # org answers only its own client, as a Developer Console project belongs to one org.
    # Every other org of `orgs` answers client_id / client_secret.
    org_clients: tuple[tuple[str, str, str], ...] = ()
    # Every org gets the same sandboxes; Adobe answers 2100-404 for any other name.
    sandboxes: tuple[str, ...] = DEFAULT_SANDBOXES
    # Accept any well-formed sandbox name (handy for demos); off by default like Adobe.
    any_sandbox: bool = False
    # (sandbox, cloud) pairs. A sandbox not named here is pinned to the cloud of its first
    # connection that only one cloud takes ("pinned"), or is on Azure, AEP's default cloud
    # ("azure"); with `lenient` it accepts either cloud's payloads, as the emulator once did.
    clouds: tuple[tuple[str, str], ...] = ()
    unnamed_cloud: UnnamedCloud = "pinned"
    # The older, laxer readings where Adobe is silent: unknown body keys dropped, filters on
    # unknown fields matching nothing, sandboxes without a cloud taking both clouds' forms.
    lenient: bool = False
    token_lifetime_s: int = DEFAULT_TOKEN_LIFETIME
    page_size: int = DEFAULT_PAGE_SIZE
    max_page_size: int = DEFAULT_MAX_PAGE_SIZE
    port_type: PortType = "string"
    ssl_modes: tuple[str, ...] = DEFAULT_SSL_MODES
    mask_style: MaskStyle = "stars"
    max_body_bytes: int = DEFAULT_MAX_BODY_BYTES
    faults: Faults = field(default_factory=Faults)
    dataflow: DataflowOptions = field(default_factory=DataflowOptions)
    seed: int | None = None
    # SQLite file; None keeps state in memory only.
    state_file: str | None = None
    # Offline by default in Python, so a test with no database never resolves a host; the
    # command line connects for real when psycopg is installed.
    databases: DatabaseMode = "offline"
    database_timeout_s: float = DEFAULT_DATABASE_TIMEOUT
    # What verify-ca/verify-full trust (default: the system's CA bundle).
    database_ca_file: str | None = None

    def validate(self) -> None:
        if not self.client_id or not self.client_secret:
            raise ValueError("client id and client secret must not be empty")
        if not self.orgs:
            raise ValueError("at least one org is required")
        ids = [self.client_id, *(client for _, client, _ in self.org_clients)]
        if len(set(ids)) != len(ids):
            raise ValueError("every org's client id must differ from the others")
        for org, client, secret in self.org_clients:
            if org not in self.orgs:
                raise ValueError(f"org {org} has a client but is not one of the orgs served")
            if not client or not secret:
                raise ValueError(f"org {org}: client id and client secret must not be empty")
        if not self.sandboxes and not self.any_sandbox:
            raise ValueError("at least one sandbox is required (or any_sandbox)")
        for sandbox, cloud in self.clouds:
            if cloud not in CLOUDS:
                raise ValueError(
                    f"sandbox {sandbox}: cloud must be one of {', '.join(CLOUDS)}, got {cloud!r}"
                )
        if self.unnamed_cloud not in UNNAMED_CLOUDS:
            raise ValueError(f"unnamed_cloud must be one of {', '.join(UNNAMED_CLOUDS)}")
        if self.token_lifetime_s < 1:
            raise ValueError(
                f"token lifetime must be at least 1 second, got {self.token_lifetime_s}"
            )
        if not 1 <= self.page_size <= self.max_page_size:
            raise ValueError(
                f"page size must be between 1 and the maximum ({self.max_page_size}), "
                f"got {self.page_size}"
            )
        if self.port_type not in PORT_TYPES:
            raise ValueError(f"port_type must be one of {', '.join(PORT_TYPES)}")
        if self.mask_style not in MASK_STYLES:
            raise ValueError(f"mask_style must be one of {', '.join(MASK_STYLES)}")
        if not self.ssl_modes:
            raise ValueError("at least one sslMode spelling is required")
        if self.max_body_bytes < 1024:
            raise ValueError("max_body_bytes must be at least 1024")
        if self.databases not in DATABASE_MODES:
            raise ValueError(f"databases must be one of {', '.join(DATABASE_MODES)}")
        if not 0 < self.database_timeout_s <= 300:
            raise ValueError(
                "the database timeout must be more than 0 and at most 300 seconds, "
                f"got {self.database_timeout_s:g}"
            )
        self.faults.validate()
        self.dataflow.validate()

    def secret_of(self, client_id: str) -> str | None:
        """The client secret IMS accepts for ``client_id``, or None for an unknown client."""
        clients = {self.client_id: self.client_secret}
        clients.update((client, secret) for _, client, secret in self.org_clients)
        return clients.get(client_id)

    def orgs_of(self, client_id: str) -> tuple[str, ...]:
        """The orgs a client may call."""
        own = tuple(org for org, client, _ in self.org_clients if client == client_id)
        if own or client_id != self.client_id:
            return own
        claimed = {org for org, _, _ in self.org_clients}
        return tuple(org for org in self.orgs if org not in claimed)

    def cloud_of(self, sandbox: str) -> str | None:
        """The cloud the configuration gives the sandbox (None: see ``unnamed_cloud``)."""
        named = dict(self.clouds).get(sandbox)
        if named is None and not self.lenient and self.unnamed_cloud == "azure":
            return "azure"
        return named
