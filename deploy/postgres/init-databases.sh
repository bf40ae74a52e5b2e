#!/bin/sh
# Runs once, on the first start of an empty PostgreSQL volume (docker-entrypoint-initdb.d): one database
# and one owner role per service. A service's role can reach its own database only (CONNECT is revoked
# from PUBLIC), so orgs cannot read cadres' data even by mistake.
set -eu

create() {
  service="$1"
  password="$2"
  if [ -z "$password" ]; then
    echo "init-databases: the password of $service is empty (see deploy/.env.example)" >&2
    exit 1
  fi
  psql -v ON_ERROR_STOP=1 --username "$POSTGRES_USER" --dbname postgres \
       -v role="tochuc_$service" -v password="$password" <<'SQL'
CREATE ROLE :"role" LOGIN PASSWORD :'password';
CREATE DATABASE :"role" OWNER :"role" ENCODING 'UTF8' TEMPLATE template0;
REVOKE ALL ON DATABASE :"role" FROM PUBLIC;
SQL
}

create orgs "${ORGS_DB_PASSWORD:-}"
create cadres "${CADRES_DB_PASSWORD:-}"
create training "${TRAINING_DB_PASSWORD:-}"
