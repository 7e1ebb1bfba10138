"""The fault options of ``provision emulator``: latency, injected errors, the rate limit.

Each maps to a ``Faults`` field (config.py), also settable at run time through the
``/__emulator/faults`` admin route.
"""

from __future__ import annotations

import argparse

from provisioner.emulator.config import Faults


def _rate(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a number: {text!r}") from None
    if not 0.0 <= value <= 1.0:
        raise argparse.ArgumentTypeError(f"a rate is between 0 and 1, got {text}")
    return value


def add_fault_options(parser: argparse.ArgumentParser) -> None:
    f = parser.add_argument_group(
        "faults (seeded; also settable at run time via /__emulator/faults)"
    )
    f.add_argument("--latency-ms", type=float, default=0.0, help="added to every API request")
    f.add_argument("--latency-jitter-ms", type=float, default=0.0, help="plus uniform 0..N ms")
    f.add_argument(
        "--rate-429", type=_rate, default=0.0, metavar="P", help="share answered 429 429050"
    )
    f.add_argument(
        "--rate-429-no-retry-after",
        type=_rate,
        default=0.0,
        metavar="P",
        help="share of those 429s without Retry-After",
    )
    f.add_argument(
        "--retry-after",
        type=int,
        default=1,
        metavar="SECONDS",
        help="Retry-After value (default: %(default)s)",
    )
    f.add_argument(
        "--rate-5xx", type=_rate, default=0.0, metavar="P", help="share answered 500/503/504"
    )
    f.add_argument(
        "--rate-5xx-writes",
        type=_rate,
        default=0.0,
        metavar="P",
        help="share of writes (POST, PATCH, DELETE) answered 500/503/504; reads still work",
    )
    f.add_argument(
        "--rate-commit-then-500",
        type=_rate,
        default=0.0,
        metavar="P",
        help="creates stored, then answered 500",
    )
    f.add_argument(
        "--rate-commit-then-drop",
        type=_rate,
        default=0.0,
        metavar="P",
        help="creates stored, then the connection is closed with no answer",
    )
    f.add_argument(
        "--rate-limit",
        type=float,
        metavar="N",
        help="requests per second per org on the API (GETs too); over it: 429 429050",
    )
    f.add_argument("--rate-limit-burst", type=int, metavar="N", help="bucket size (default N/10)")
    f.add_argument(
        "--rate-limit-retry-after",
        action="store_true",
        help="send Retry-After with those 429s (Adobe usually does not)",
    )
    f.add_argument("--fault-page-size", type=int, metavar="N", help="force pages no larger than N")
    f.add_argument(
        "--faults-on-token", action="store_true", help="apply faults to /ims/token/v3 too"
    )
    f.add_argument("--seed", type=int, help="seed for the fault dice (default: random)")


def faults_from_args(args: argparse.Namespace) -> Faults:
    return Faults(
        latency_ms=args.latency_ms,
        latency_jitter_ms=args.latency_jitter_ms,
        rate_429=args.rate_429,
        rate_429_no_retry_after=args.rate_429_no_retry_after,
        retry_after_s=args.retry_after,
        rate_5xx=args.rate_5xx,
        rate_5xx_writes=args.rate_5xx_writes,
        rate_commit_then_500=args.rate_commit_then_500,
        rate_commit_then_drop=args.rate_commit_then_drop,
        page_size=args.fault_page_size,
        apply_to_token=args.faults_on_token,
        rate_limit=args.rate_limit,
        rate_limit_burst=args.rate_limit_burst,
        rate_limit_retry_after=args.rate_limit_retry_after,
    )
