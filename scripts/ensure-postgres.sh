#!/usr/bin/env bash
# `make test`, `make demo` and `make bench` start throwaway PostgreSQL servers
# (tests/verify/pgserver.py): make sure the server binaries and openssl are here. As root
# with apt-get (a bare CI machine) it installs Debian's packages; otherwise it says what to do.
set -euo pipefail

have() {
  command -v openssl >/dev/null || return 1
  if [ -n "${PG_BINDIR:-}" ]; then [ -x "$PG_BINDIR/initdb" ] && [ -x "$PG_BINDIR/postgres" ]; return; fi
  command -v initdb >/dev/null && command -v postgres >/dev/null && return 0
  compgen -G '/usr/lib/postgresql/*/bin/initdb' >/dev/null
}

have && exit 0
if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
  echo "PostgreSQL server binaries or openssl not found: installing Debian's postgresql and openssl" >&2
  # The servers are throwaway ones started by the suite: the package must not create and
  # start a cluster of its own on port 5432.
  mkdir -p /etc/postgresql-common/createcluster.d
  echo 'create_main_cluster = false' >/etc/postgresql-common/createcluster.d/provision-no-main.conf
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends postgresql openssl >/dev/null
  have && exit 0
fi
echo "error: the tests and the demo need PostgreSQL's server binaries (initdb, postgres) and" \
  "openssl: install them (Debian/Ubuntu: sudo apt-get install postgresql openssl; macOS:" \
  "brew install postgresql) or set PG_BINDIR to the folder holding initdb" >&2
exit 1
