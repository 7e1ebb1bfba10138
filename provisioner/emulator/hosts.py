"""Which `Host` headers the emulator answers: a defence against DNS rebinding.

A web page can make a browser send requests to 127.0.0.1 under the page's own name (a DNS
name that first resolves to the attacker, then to 127.0.0.1) and read the answers, such as
`/__emulator/state` with every password in the clear. Such a request always carries the
attacker's name in `Host`. So the emulator answers only the names that cannot be rebound:
`localhost` and loopback addresses; the address it was bound to on purpose; when bound to
every interface, any IP address (an address is not a name anyone can rebind); and the
names given with `--allow-host` (a container's service name, say).
"""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass
from urllib.parse import urlsplit

LOOPBACK_NAMES = frozenset({"localhost"})
WILDCARDS = frozenset({"", "0.0.0.0", "::"})


def host_name(header: str) -> str | None:
    """The name or address in a Host header, lower case, without port, brackets or the
    trailing dot; None when it is not one."""
    try:
        name = urlsplit("//" + header.strip()).hostname
    except ValueError:
        return None
    return name.rstrip(".") if name else None


def _address(name: str) -> ipaddress.IPv4Address | ipaddress.IPv6Address | None:
    try:
        return ipaddress.ip_address(name)
    except ValueError:
        return None


def is_loopback(name: str) -> bool:
    """Whether ``name`` (a --host value or a Host's name) can only mean this machine."""
    name = name.strip().strip("[]").lower().rstrip(".")
    if name in LOOPBACK_NAMES:
        return True
    address = _address(name)
    return address is not None and address.is_loopback


@dataclass(frozen=True)
class HostCheck:
    bound: str  # the --host the server listens on
    names: frozenset[str] = frozenset()  # --allow-host

    def accepts(self, header: str | None) -> bool:
        if header is None:
            return True  # every browser sends Host: a request without one is no rebinding
        name = host_name(header)
        if name is None:
            return False
        if is_loopback(name) or name in self.names:
            return True
        bound = self.bound.strip("[]").lower()
        if bound in WILDCARDS:
            return _address(name) is not None
        return name == bound.rstrip(".")

    def refusal(self, header: str, port: int) -> str:
        shown = header.encode("ascii", "backslashreplace").decode("ascii")
        shown = "".join(c if c.isprintable() else f"\\x{ord(c):02x}" for c in shown)[:100]
        return (
            f"Host '{shown}' is not a name this emulator answers (a web page reaching it "
            f"through DNS rebinding would send one): use http://127.0.0.1:{port}, or start it "
            "with --allow-host NAME"
        )
