#!/usr/bin/env bash
# Make sure the system parts weft needs are there: each named part is used as
# found, and only what is missing is installed (as root, through apt) and
# started. Idempotent.
#
#   scripts/ensure-system.sh [docker] [mariadb] [debootstrap]
#
#   docker       a Docker engine that answers (docker.io + iptables; dockerd started)
#   mariadb      a MariaDB server that answers, with the tests' account
#   debootstrap  the tool that builds base images offline
set -euo pipefail

want_docker=0
want_mariadb=0
want_debootstrap=0
for arg in "$@"; do
  case "$arg" in
    docker) want_docker=1 ;;
    mariadb) want_mariadb=1 ;;
    debootstrap) want_debootstrap=1 ;;
    *) echo "usage: $0 [docker] [mariadb] [debootstrap]" >&2; exit 2 ;;
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

ensure_docker() {
  if docker_answers; then return 0; fi
  if ! command -v dockerd >/dev/null 2>&1; then
    apt_install docker.io iptables
  fi
  command -v docker >/dev/null 2>&1 || apt_install docker.io
  is_root || die "no Docker engine answers; start dockerd or run as root so weft can start it"
  # A pid file left by a dockerd that was killed keeps the next one from starting.
  if [ -f /var/run/docker.pid ] && ! kill -0 "$(cat /var/run/docker.pid)" 2>/dev/null; then
    rm -f /var/run/docker.pid
  fi
  log "starting dockerd (log: /var/log/weft-dockerd.log)"
  setsid nohup dockerd >/var/log/weft-dockerd.log 2>&1 < /dev/null &
  for _ in $(seq 1 120); do
    docker_answers && { log "dockerd is up"; return 0; }
    sleep 0.5
  done
  tail -n 20 /var/log/weft-dockerd.log >&2 || true
  die "dockerd did not answer within 60 s (see /var/log/weft-dockerd.log)"
}

mariadb_answers() { mariadb-admin --protocol=socket ping >/dev/null 2>&1; }

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
    log "starting MariaDB"
    start-stop-daemon --start --oknodo --background --exec /usr/sbin/mariadbd -- --user=mysql
    for _ in $(seq 1 120); do
      mariadb_answers && break
      sleep 0.5
    done
    mariadb_answers || die "MariaDB did not answer within 60 s"
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

[ "$want_debootstrap" -eq 1 ] && apt_install debootstrap
[ "$want_docker" -eq 1 ] && ensure_docker
[ "$want_mariadb" -eq 1 ] && ensure_mariadb
exit 0
