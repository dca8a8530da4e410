#!/bin/sh
# Runs once, when the db_data volume is new: one database per service (see docker-compose.yml).
set -eu
for database in books users borrows notifications; do
  psql -v ON_ERROR_STOP=1 --username "$POSTGRES_USER" --dbname "$POSTGRES_DB" \
    -c "CREATE DATABASE $database OWNER \"$POSTGRES_USER\""
done
