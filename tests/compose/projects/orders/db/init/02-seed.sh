#!/bin/bash
# The official image runs this with POSTGRES_USER/POSTGRES_DB set and psql on its socket.
set -euo pipefail
psql -v ON_ERROR_STOP=1 --username "$POSTGRES_USER" --dbname "$POSTGRES_DB" <<-EOSQL
    INSERT INTO orders (item, quantity) VALUES ('seed-widget', 1);
EOSQL
