"""A flow's ``scheduleParams``: the documented rules, and the run times they produce.

Rules [doc DB-DF flowSpec, TPL, OAS ScheduleSpecDTO]: ``frequency`` is once, minute, hour, day
or week; ``interval`` is required unless ``once`` and absent with it, at least 15 for
``minute``; ``backfill`` is a boolean, absent with ``once``; ``startTime`` is epoch seconds.
Adobe documents no error code for a bad schedule: the emulator answers FLOW-1100-400.
Values are stored as strings because that is how a GET shows them [doc UPD].
"""

from __future__ import annotations

from typing import Any

from provisioner.emulator.dataflow_options import DataflowOptions
from provisioner.emulator.errors import JsonObject, flow_error

FREQUENCIES = {"once": 0, "minute": 60, "hour": 3600, "day": 86400, "week": 604800}
# The latest runs the emulator derives for one flow; older ones are not listed.
MAX_RUNS_PER_FLOW = 200


def _bad(message: str) -> Exception:
    return flow_error("1100-400", f"scheduleParams: {message}")


def _integer(name: str, value: Any, options: DataflowOptions) -> int:
    as_string = isinstance(value, str) and value.isdigit() and len(value) <= 15
    as_native = isinstance(value, int) and not isinstance(value, bool) and value >= 0
    allowed = {
        "both": as_string or as_native,
        "strings": as_string,
        "native": as_native,
    }[options.schedule_types]
    if not allowed:
        form = {"both": "an integer or a string of digits", "strings": "a string of digits"}
        raise _bad(f"{name} must be {form.get(options.schedule_types, 'a JSON integer')}.")
    return int(value)


def _boolean(value: Any, options: DataflowOptions) -> bool:
    as_string = value in ("true", "false")
    as_native = isinstance(value, bool)
    allowed = {"both": as_string or as_native, "strings": as_string, "native": as_native}
    if not allowed[options.schedule_types]:
        raise _bad("backfill must be a boolean" + ("" if as_native else " (true or false)") + ".")
    return value is True or value == "true"


def check_schedule(
    raw: Any, options: DataflowOptions, now_s: float, *, creating: bool
) -> JsonObject:
    """The schedule in its stored (string) form, or a 400 naming the broken rule."""
    if not isinstance(raw, dict):
        raise _bad("must be an object with startTime and frequency.")
    frequency = raw.get("frequency")
    if frequency not in FREQUENCIES:
        raise _bad(f"frequency must be one of {', '.join(FREQUENCIES)}.")
    if "startTime" not in raw:
        raise _bad("startTime is required.")
    start = _integer("startTime", raw["startTime"], options)
    if start >= 10**11:  # year 5138 in seconds: a value in milliseconds, the usual slip
        raise _bad("startTime is epoch seconds; this value looks like milliseconds.")
    if creating and options.past_start_time == "refused" and start < int(now_s):
        raise _bad("startTime is in the past.")
    stored: JsonObject = {"startTime": str(start), "frequency": frequency}
    if frequency == "once":
        for key in ("interval", "backfill"):
            if key in raw:
                raise _bad(f"{key} must be absent when frequency is once.")
        return stored
    if "interval" not in raw:
        raise _bad(f"interval is required when frequency is {frequency}.")
    interval = _integer("interval", raw["interval"], options)
    least = 15 if frequency == "minute" else options.min_interval_other
    if interval < least:
        raise _bad(f"interval must be at least {least} when frequency is {frequency}.")
    stored["interval"] = str(interval)
    stored["backfill"] = "true" if _boolean(raw.get("backfill", True), options) else "false"
    return stored


def run_times(schedule: JsonObject, now_s: float) -> list[int]:
    """Start times (epoch seconds) of the runs due by ``now_s``, the latest ones only."""
    start = int(schedule["startTime"])
    if start > now_s:
        return []
    step = FREQUENCIES[schedule["frequency"]] * int(schedule.get("interval", "0"))
    if step == 0:
        return [start]
    last = (int(now_s) - start) // step
    first = max(0, last - MAX_RUNS_PER_FLOW + 1)
    return [start + k * step for k in range(first, last + 1)]
