#!/usr/bin/env bash
# Restore drill: back up one service database and prove the backup restores.
#
#   deploy/scripts/restore-drill.sh DATABASE_URL [DUMP_FILE]
#
# 1. pg_dump --format=custom of DATABASE_URL into DUMP_FILE (default: a temporary file, removed after);
# 2. pg_restore into a scratch database <db>_restore_drill on the same server (created, then dropped);
# 3. compares the row count of every table (alembic_version included) between the two; exit 0 only when
#    every count matches. The role in DATABASE_URL needs CREATEDB (or run it with the superuser's URL).
#
# DATABASE_URL may be the service's SQLAlchemy URL (postgresql+asyncpg://…): the driver part is dropped.
# Tested by tests/test_deploy_restore.py. Keep the dumps (DUMP_FILE) as the backups themselves.
set -euo pipefail

if [ $# -lt 1 ]; then
  echo "usage: $0 DATABASE_URL [DUMP_FILE]" >&2
  exit 2
fi
url="${1/postgresql+asyncpg:/postgresql:}"
url="${url/postgresql+psycopg:/postgresql:}"
query=""
if [[ "$url" == *\?* ]]; then query="?${url#*\?}"; url="${url%%\?*}"; fi
db="${url##*/}"
server="${url%/*}"
scratch="${db}_restore_drill"
keep_dump=1
dump="${2:-}"
if [ -z "$dump" ]; then
  dump="$(mktemp -t tochuc-restore-drill.XXXXXX)"
  keep_dump=0
fi

admin() { psql -X -q -v ON_ERROR_STOP=1 "$server/postgres$query" "$@"; }
cleanup() {
  admin -c "DROP DATABASE IF EXISTS \"$scratch\" WITH (FORCE)" >/dev/null 2>&1 || true
  if [ "$keep_dump" = 0 ]; then rm -f "$dump"; fi
}
trap cleanup EXIT

counts() {
  local target="$1"
  local tables
  tables="$(psql -X -At -v ON_ERROR_STOP=1 "$target" -c \
    "SELECT quote_ident(table_schema) || '.' || quote_ident(table_name) FROM information_schema.tables
     WHERE table_type = 'BASE TABLE' AND table_schema NOT IN ('pg_catalog', 'information_schema')
     ORDER BY 1")"
  for table in $tables; do
    printf '%s %s\n' "$table" "$(psql -X -At -v ON_ERROR_STOP=1 "$target" -c "SELECT count(*) FROM $table")"
  done
}

started=$(date +%s)
pg_dump --format=custom --no-owner --no-privileges --file "$dump" "$url$query"
admin -c "DROP DATABASE IF EXISTS \"$scratch\" WITH (FORCE)" -c "CREATE DATABASE \"$scratch\""
pg_restore --no-owner --no-privileges --exit-on-error --dbname "$server/$scratch$query" "$dump"

source_counts="$(counts "$url$query")"
restored_counts="$(counts "$server/$scratch$query")"
if [ "$source_counts" != "$restored_counts" ]; then
  echo "restore drill FAILED for $db: the restored copy differs" >&2
  diff <(echo "$source_counts") <(echo "$restored_counts") >&2 || true
  exit 1
fi
tables=$(echo "$source_counts" | grep -c . || true)
rows=$(echo "$source_counts" | awk '{s += $2} END {print s + 0}')
size=$(du -k "$dump" | cut -f1)
echo "restore drill OK: $db -> $scratch: $tables tables, $rows rows identical; dump ${size} KiB; $(( $(date +%s) - started )) s"
