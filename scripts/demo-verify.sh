#!/usr/bin/env bash
# The verify story on a real local PostgreSQL (run by scripts/demo.sh): a pre-flight from
# this machine, apply --verify, then verify --explore through the emulator's Flow Service,
# which connects to the database for real. One connection has the right password, one not.
set -euo pipefail
PROVISION=$(realpath -s "${PROVISION:-.venv/bin/provision}")
PYTHON=$(realpath -s "${PYTHON:-.venv/bin/python}")
PGSERVER=$(realpath tests/verify/pgserver.py)
work=$(mktemp -d)
pids=()
cleanup() {
  for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; wait "$pid" 2>/dev/null || true; done
  rm -rf "$work"
}
trap cleanup EXIT

if [ -t 1 ] && [ -z "${NO_COLOR:-}" ]; then
  step() { printf '\n\033[1m== %s\033[0m\n' "$*"; }
else
  step() { printf '\n== %s\n' "$*"; }
fi
wait_for() {  # wait_for FILE PATTERN LOG: until FILE has a line matching PATTERN
  for _ in $(seq 300); do
    grep -q "$2" "$1" && return 0
    kill -0 "${pids[-1]}" 2>/dev/null || break  # it exited: no point waiting
    sleep 0.1
  done
  cat "$3" >&2
  return 1
}

step "A throwaway PostgreSQL server on a free port: TLS only, self-signed certificate"
DEMO_PG_PASSWORD=$("$PYTHON" -c 'import secrets; print(secrets.token_hex(12))')
export DEMO_PG_PASSWORD DEMO_WRONG_PG_PASSWORD=not-the-password
"$PYTHON" "$PGSERVER" --tls --password-env DEMO_PG_PASSWORD >"$work/pg.env" 2>"$work/pg.log" &
pids+=($!)
wait_for "$work/pg.env" '_CA_FILE=' "$work/pg.log"
eval "$(cat "$work/pg.env")"
echo "PostgreSQL at $PG_HOST:$PG_PORT, database $PG_DATABASE, user $PG_USER; tables public.customers, public.orders, sales.regions"

cd "$work"  # so the outputs name manifests/connections.yaml, as in a repository
mkdir manifests
cat >manifests/connections.yaml <<YAML
version: 1
org: 0123456789ABCDEF01234567@AdobeOrg
sandboxes:
  - {name: prod, cloud: azure}
connections:
YAML
for entry in "orders DEMO_PG_PASSWORD" "orders-typo DEMO_WRONG_PG_PASSWORD"; do
  set -- $entry
  cat >>manifests/connections.yaml <<YAML
  - name: $1
    auth:
      type: basic
      server: $PG_HOST
      port: $PG_PORT
      database: $PG_DATABASE
      username: $PG_USER
      password: {env: $2}
      ssl: verify-full
YAML
done
sed -n '5,$p' manifests/connections.yaml

step "provision verify manifests/ --direct --ca-file server.crt   (pre-flight from here, no AEP call)"
set +e; "$PROVISION" verify manifests --direct --ca-file "$PG_CA_FILE"; code=$?; set -e
echo "exit code: $code"

step "provision emulator manifests/ --database-ca-file server.crt   (its /test connects for real)"
"$PROVISION" emulator manifests --port 0 --database-ca-file "$PG_CA_FILE" \
  >"$work/emulator.env" 2>"$work/emulator.log" &
pids+=($!)
wait_for "$work/emulator.env" '^export AEP_CLIENT_SECRET' "$work/emulator.log"
grep '^# /test' "$work/emulator.env"
eval "$(grep '^export ' "$work/emulator.env")"

step "provision apply manifests/ --auto-approve --verify   (creates both, then tests what it created)"
set +e; "$PROVISION" apply manifests --auto-approve --verify -q; code=$?; set -e
echo "exit code: $code"

step "provision verify manifests/ --explore   (read-only, no database secret: the platform's view)"
set +e
env -u DEMO_PG_PASSWORD -u DEMO_WRONG_PG_PASSWORD "$PROVISION" verify manifests --explore
code=$?
set -e
echo "exit code: $code"
