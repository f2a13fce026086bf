#!/bin/bash
# Healthy only when this start is over (the entrypoint's ready mark) and the world
# data is loaded: load_state says so and both counts are > 0.
set -u
[ -f /run/mysqld/worlddb.ready ] || exit 1
db=${WORLDDB_DATABASE:-world}
out=$(mariadb --protocol=socket --batch --skip-column-names -e \
    "SELECT status = 'loaded' AND countries > 0 AND cities > 0 FROM \`${db}\`.load_state WHERE id = 1" \
    2>/dev/null) || exit 1
[ "$out" = "1" ]
