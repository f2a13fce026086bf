#!/usr/bin/env bash
# Make sure the system parts weft needs are there: each named part is used as
# found, and only what is missing is installed (as root, through apt) and
# started. Idempotent.
#
#   scripts/ensure-system.sh [docker] [mariadb] [postgres] [debootstrap] [chromium] [cluster]
#
#   docker       a Docker engine that answers (docker.io + iptables; dockerd started)
#   mariadb      a MariaDB server that answers, with the tests' account
#   postgres     a PostgreSQL server on 127.0.0.1:5432, with the tests' role
#   debootstrap  the tool that builds base images offline
#   chromium     a headless browser (the test that /docs renders without a network)
#   cluster      what the multi-host test cluster uses: iproute2, iptables, nsenter,
#                wireguard-go + wireguard-tools (userspace WireGuard), tcpdump, iperf3,
#                libnftables1 (the agents program the overlay fast path through it)
#
# A server is found by its socket or its pid file, never by its executable's
# path: containers' processes share the host's process table, so the worlddb
# container's mariadbd would pass for the host's (start-stop-daemon --exec,
# pidof and pgrep all fall for it).
set -euo pipefail

want_docker=0
want_mariadb=0
want_postgres=0
want_debootstrap=0
want_cluster=0
want_chromium=0
for arg in "$@"; do
  case "$arg" in
    docker) want_docker=1 ;;
    mariadb) want_mariadb=1 ;;
    postgres) want_postgres=1 ;;
    debootstrap) want_debootstrap=1 ;;
    cluster) want_cluster=1 ;;
    chromium) want_chromium=1 ;;
    *) echo "usage: $0 [docker] [mariadb] [postgres] [debootstrap] [chromium] [cluster]" >&2; exit 2 ;;
  esac
done

log() { printf 'weft: %s\n' "$*" >&2; }
die() { printf 'weft: %s\n' "$*" >&2; exit 1; }

is_root() { [ "$(id -u)" -eq 0 ]; }

apt_updated=0
apt_install() {
  # Install the Debian packages given, skipping those already installed.
  local missing=()
  for pkg in "$@"; do
    dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed" \
      || missing+=("$pkg")
  done
  [ ${#missing[@]} -eq 0 ] && return 0
  is_root || die "missing packages: ${missing[*]}; install them (apt-get install ${missing[*]}) or run as root"
  command -v apt-get >/dev/null || die "missing packages: ${missing[*]}, and no apt-get to install them"
  if [ "$apt_updated" -eq 0 ]; then
    log "apt-get update"
    apt-get update -q >/dev/null
    apt_updated=1
  fi
  log "installing ${missing[*]}"
  DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends "${missing[@]}" >/dev/null
}

docker_answers() { docker info >/dev/null 2>&1; }

pid_alive() {
  # True when the pid file names a live process (the file is the only identity used).
  [ -f "$1" ] && kill -0 "$(cat "$1" 2>/dev/null)" 2>/dev/null
}

ensure_docker() {
  if docker_answers; then return 0; fi
  if ! command -v dockerd >/dev/null 2>&1; then
    apt_install docker.io iptables
  fi
  command -v docker >/dev/null 2>&1 || apt_install docker.io
  is_root || die "no Docker engine answers; start dockerd or run as root so weft can start it"
  # A pid file left by a dockerd that was killed keeps the next one from starting.
  if [ -f /var/run/docker.pid ] && ! pid_alive /var/run/docker.pid; then
    rm -f /var/run/docker.pid
  fi
  if pid_alive /var/run/docker.pid; then
    log "dockerd $(cat /var/run/docker.pid) is starting; waiting for it"
  else
    log "starting dockerd (log: /var/log/weft-dockerd.log)"
    setsid nohup dockerd --pidfile /var/run/docker.pid >/var/log/weft-dockerd.log 2>&1 < /dev/null &
  fi
  for _ in $(seq 1 120); do
    docker_answers && { log "dockerd is up"; return 0; }
    sleep 0.5
  done
  tail -n 20 /var/log/weft-dockerd.log >&2 || true
  die "dockerd did not answer within 60 s (see /var/log/weft-dockerd.log)"
}

mariadb_answers() { mariadb-admin --protocol=socket ping >/dev/null 2>&1; }

MARIADB_PID=/run/mysqld/mysqld.pid

ensure_mariadb() {
  if ! command -v mariadbd >/dev/null 2>&1 && [ ! -x /usr/sbin/mariadbd ]; then
    apt_install mariadb-server mariadb-client
  fi
  command -v mariadb >/dev/null 2>&1 || apt_install mariadb-client
  if ! mariadb_answers; then
    is_root || die "no MariaDB server answers; start it or run as root so weft can start it"
    install -d -o mysql -g mysql /run/mysqld
    if [ ! -d /var/lib/mysql/mysql ]; then
      mariadb-install-db --user=mysql --datadir=/var/lib/mysql >/dev/null
    fi
    if pid_alive "$MARIADB_PID"; then
      log "MariaDB $(cat "$MARIADB_PID") is starting; waiting for it"
    else
      rm -f "$MARIADB_PID"
      log "starting MariaDB (log: /var/log/weft-mariadbd.log)"
      setsid nohup /usr/sbin/mariadbd --user=mysql --pid-file="$MARIADB_PID" \
        >/var/log/weft-mariadbd.log 2>&1 < /dev/null &
    fi
    for _ in $(seq 1 120); do
      mariadb_answers && break
      sleep 0.5
    done
    mariadb_answers || { tail -n 20 /var/log/weft-mariadbd.log >&2 || true;
      die "MariaDB did not answer within 60 s (see /var/log/weft-mariadbd.log)"; }
  fi
  # The tests' account: every test database is named weft_test_*.
  mariadb --protocol=socket -e "
    CREATE USER IF NOT EXISTS 'weft_test'@'localhost' IDENTIFIED BY 'weft_test';
    CREATE USER IF NOT EXISTS 'weft_test'@'127.0.0.1' IDENTIFIED BY 'weft_test';
    GRANT ALL PRIVILEGES ON \`weft\\_test\\_%\`.* TO 'weft_test'@'localhost';
    GRANT ALL PRIVILEGES ON \`weft\\_test\\_%\`.* TO 'weft_test'@'127.0.0.1';
    GRANT PROCESS ON *.* TO 'weft_test'@'localhost';
    GRANT PROCESS ON *.* TO 'weft_test'@'127.0.0.1';
    FLUSH PRIVILEGES;"
}

postgres_answers() { pg_isready -q -h 127.0.0.1 -p 5432 >/dev/null 2>&1; }

as_postgres_psql() {
  # psql as the server's superuser over the local socket (peer auth), stopping at errors.
  runuser -u postgres -- psql -q -X -v ON_ERROR_STOP=1 -p 5432 "$@"
}

ensure_postgres() {
  if ! command -v pg_lsclusters >/dev/null 2>&1 || ! command -v pg_isready >/dev/null 2>&1; then
    apt_install postgresql
  fi
  if ! postgres_answers; then
    is_root || die "no PostgreSQL answers on 127.0.0.1:5432; start it or run as root so weft can start it"
    # The cluster on port 5432 (version and name found, not assumed); other clusters are left alone.
    local cluster
    cluster=$(pg_lsclusters --no-header | awk '$3 == 5432 { print $1, $2; exit }')
    if [ -z "$cluster" ]; then
      local version
      version=$(ls /usr/lib/postgresql | sort -V | tail -n 1)
      [ -n "$version" ] || die "postgresql is installed but no server version is in /usr/lib/postgresql"
      log "creating PostgreSQL $version cluster main on port 5432"
      pg_createcluster --port 5432 "$version" main >/dev/null
      cluster="$version main"
    fi
    log "starting PostgreSQL cluster $cluster"
    # shellcheck disable=SC2086  # "version name" splits into pg_ctlcluster's two arguments
    pg_ctlcluster $cluster start
    for _ in $(seq 1 120); do
      postgres_answers && break
      sleep 0.5
    done
    postgres_answers || die "PostgreSQL did not answer on 127.0.0.1:5432 within 60 s"
  fi
  # The tests' role: password auth over TCP, and it creates (and owns) its weft_test_* databases.
  as_postgres_psql -d postgres <<'SQL' >/dev/null
DO $$
BEGIN
  IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'weft_test') THEN
    CREATE ROLE weft_test LOGIN CREATEDB PASSWORD 'weft_test';
  ELSE
    ALTER ROLE weft_test LOGIN CREATEDB PASSWORD 'weft_test';
  END IF;
END
$$;
SQL
}

ensure_chromium() {
  command -v chromium >/dev/null 2>&1 || apt_install chromium
}

[ "$want_debootstrap" -eq 1 ] && apt_install debootstrap
[ "$want_cluster" -eq 1 ] && apt_install iproute2 iptables util-linux wireguard-go wireguard-tools tcpdump iperf3 procps libnftables1
[ "$want_chromium" -eq 1 ] && ensure_chromium
[ "$want_docker" -eq 1 ] && ensure_docker
[ "$want_mariadb" -eq 1 ] && ensure_mariadb
[ "$want_postgres" -eq 1 ] && ensure_postgres
exit 0
