#!/usr/bin/env bash
# The whole story on the embedded emulator: validate, plan, apply, plan again, PR comment.
# Run by `make demo`; the Makefile provides the demo's database secrets as variables.
set -euo pipefail
PROVISION=${PROVISION:-.venv/bin/provision}
work=$(mktemp -d)
trap 'kill "$emulator" 2>/dev/null || true; wait "$emulator" 2>/dev/null || true; rm -rf "$work"' EXIT

if [ -t 1 ] && [ -z "${NO_COLOR:-}" ]; then
  step() { printf '\n\033[1m== %s\033[0m\n' "$*"; }
else
  step() { printf '\n== %s\n' "$*"; }
fi

step "provision emulator configs/   (Flow Service + IMS serving the manifests' org and sandboxes)"
"$PROVISION" emulator configs/ --port 0 --state "$work/emulator.sqlite" --latency-ms 20 --databases offline \
  >"$work/emulator.env" 2>"$work/emulator.log" &
emulator=$!
for _ in $(seq 100); do grep -q '^export AEP_CLIENT_SECRET' "$work/emulator.env" && break; sleep 0.1; done
grep -q '^export AEP_CLIENT_SECRET' "$work/emulator.env" || { cat "$work/emulator.log"; exit 1; }
grep -v '^# Press' "$work/emulator.env"
eval "$(grep '^export ' "$work/emulator.env")"

step "provision validate configs/   (offline, no credentials)"
"$PROVISION" validate configs/

step "provision plan configs/ --detailed-exitcode   (read-only; exit 2 = changes pending)"
set +e; "$PROVISION" plan configs/ --detailed-exitcode --out "$work/plan.json"; code=$?; set -e
echo "exit code: $code"

step "provision plan configs/ --format markdown   (the pull request comment a reviewer reads)"
"$PROVISION" plan configs/ --format markdown --out "$work/plan.json" || true

step "provision apply --plan plan.json   (the reviewed plan; refused if anything moved)"
"$PROVISION" apply --plan "$work/plan.json"

step "provision apply configs/ --auto-approve   (again: nothing to do, never a duplicate)"
"$PROVISION" apply configs/ --auto-approve

step "provision plan configs/ --detailed-exitcode   (converged: exit 0)"
"$PROVISION" plan configs/ --detailed-exitcode
echo "exit code: $?"

step "provision verify configs/ --sandbox prod --connection 'orders-*'   (the connection, and its dataflow's state and last run)"
"$PROVISION" verify configs/ --sandbox prod --connection 'orders-*'

step "The platform runs the flow   (the emulator reads no data: it records the run Adobe would, 1,200 rows)"
"$PROVISION" plan configs/ --sandbox prod --connection 'orders-*' --format json |
  "${PYTHON:-.venv/bin/python}" -c '
import json, os, sys, time, httpx
flow = json.load(sys.stdin)["connections"][0]["dataflows"][0]["flow"]["id"]
run = {"org": "0123456789ABCDEF01234567@AdobeOrg", "sandbox": "prod", "flowId": flow,
       "status": "success", "startedAt": int(time.time()) - 60,
       "inputRecordCount": 1200, "outputRecordCount": 1200, "failedRecordCount": 0}
httpx.post(os.environ["AEP_PLATFORM_URL"] + "/__emulator/runs", json=run).raise_for_status()
print(f"run recorded for flow {flow}: success, 1200 records read and written")'

step "provision verify configs/ --sandbox prod --connection 'orders-*' --since 24h   (the nightly check)"
"$PROVISION" verify configs/ --sandbox prod --connection 'orders-*' --since 24h

step "provision render configs/ --sandbox prod-aws   (the payloads, secrets masked)"
"$PROVISION" render configs/ --sandbox prod-aws --connection 'orders-*'

scripts/demo-verify.sh

step "Done: the emulator kept its state in a SQLite file; stopping it"
