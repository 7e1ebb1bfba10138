"""Which credential each org of a run uses, and the plan cut per org (for the reports).

Production and non-production are usually separate IMS orgs, each with its own
server-to-server credential (a Developer Console project belongs to one org). The rule:

    AEP_CLIENT_ID__<ORG>  / AEP_CLIENT_SECRET__<ORG>    that org's own credential, where
                                                        <ORG> is the org id before "@AdobeOrg"
                                                        (0123456789ABCDEF01234567)
    AEP_CLIENT_ID         / AEP_CLIENT_SECRET           every org without its own pair
                                                        (so one org runs as it always did)

Every org in scope must have one or the other; what is missing is listed, for every org at
once, before any request is sent. The variables are read, never printed.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from provisioner.errors import UsageError
from provisioner.model import DesiredConnection
from provisioner.remote.ims import DEFAULT_SCOPES, Credentials

DEFAULT_PAIR = ("AEP_CLIENT_ID", "AEP_CLIENT_SECRET")


def org_suffix(org: str) -> str:
    """`0123456789abcdef01234567@AdobeOrg` -> `0123456789ABCDEF01234567`."""
    return re.sub(r"[^A-Z0-9]", "_", org.split("@", 1)[0].upper())


def org_variables(org: str) -> tuple[str, str]:
    suffix = org_suffix(org)
    return f"AEP_CLIENT_ID__{suffix}", f"AEP_CLIENT_SECRET__{suffix}"


@dataclass(frozen=True)
class OrgCredential:
    org: str
    credentials: Credentials
    variables: tuple[str, str]  # where the id and the secret came from, for messages
    where: str  # file:line of the first connection in this org


def orgs_in(desired: Iterable[DesiredConnection]) -> dict[str, str]:
    """Each org of the run, in order of first use, with where it is first used."""
    found: dict[str, str] = {}
    for connection in desired:
        found.setdefault(connection.org, f"{connection.source.file}:{connection.source.line}")
    return found


def resolve(orgs: Mapping[str, str], environ: Mapping[str, str]) -> list[OrgCredential]:
    """Every org's credential by the rule above (`orgs`: org -> where it is first used);
    UsageError listing every org without one."""
    scopes = tuple(s.strip() for s in environ.get("AEP_SCOPES", "").split(",") if s.strip())
    resolved, problems = [], []
    for org, where in orgs.items():
        own = org_variables(org)
        set_own = [name for name in own if environ.get(name)]
        if set_own and len(set_own) < 2:
            unset = next(name for name in own if name not in set_own)
            problems.append(
                f"org {org} ({where}): {set_own[0]} is set but {unset} is not; set both, or "
                f"neither to use {' and '.join(DEFAULT_PAIR)}"
            )
            continue
        variables = own if set_own else DEFAULT_PAIR
        if not all(environ.get(name) for name in variables):
            problems.append(_missing(org, where, environ, single=len(orgs) == 1))
            continue
        client_id, secret = (environ[name] for name in variables)
        credentials = Credentials(client_id, secret, scopes or DEFAULT_SCOPES)
        resolved.append(OrgCredential(org, credentials, variables, where))
    if problems:
        raise UsageError("\n".join(problems))
    return resolved


def _missing(org: str, where: str, environ: Mapping[str, str], *, single: bool) -> str:
    missing = [name for name in DEFAULT_PAIR if not environ.get(name)]
    if single:
        # One org: the message everyone knows, as before several orgs were possible.
        return (
            f"{' and '.join(missing)} must be set: the OAuth server-to-server credentials of "
            "your Adobe Developer Console project (for a local rehearsal, `provision "
            "emulator` prints values to export)"
        )
    own_id, own_secret = org_variables(org)
    return (
        f"org {org} ({where}): no credential: set {own_id} and {own_secret} (or "
        f"{' and '.join(DEFAULT_PAIR)}, used by every org without its own)"
    )


def for_org(credential: OrgCredential, message: str) -> str:
    """A credential problem's message, naming this org's own variables where it uses them,
    and on the shared pair, how to give the org its own."""
    prefix = f"org {credential.org} ({credential.where}): "
    # Some checks name the org already (a 403 for the org): one prefix, not two.
    message = message.removeprefix(prefix).replace(
        "nothing was listed", "nothing was done in this org"
    )
    if credential.variables != DEFAULT_PAIR:
        for default, own in zip(DEFAULT_PAIR, credential.variables, strict=True):
            message = re.sub(rf"\b{default}\b(?!__)", own, message)
        return prefix + message
    own_id, own_secret = org_variables(credential.org)
    return (
        f"{prefix}{message}; this org uses {' and '.join(DEFAULT_PAIR)}: to give it its own "
        f"credential, set {own_id} and {own_secret}"
    )
