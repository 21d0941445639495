#!/usr/bin/env bash
# Stand-in for the official postgres image's entrypoint (the contract the chart uses; see the Dockerfile).
set -Eeuo pipefail
file_env() {  # VAR: $VAR or the contents of ${VAR}_FILE
  local var=$1 fvar="${1}_FILE"
  if [ -n "${!var:-}" ] && [ -n "${!fvar:-}" ]; then echo "error: both $var and $fvar are set" >&2; exit 1; fi
  if [ -n "${!fvar:-}" ]; then export "$var"="$(< "${!fvar}")"; fi
}
if [ "${1:0:1}" = '-' ]; then set -- postgres "$@"; fi
if [ "$1" = postgres ] && [ "$(id -u)" = 0 ]; then
  mkdir -p "$PGDATA"; chmod 00700 "$PGDATA"; chown -R postgres "$PGDATA" /var/run/postgresql
  exec setpriv --reuid=postgres --regid=postgres --init-groups "$BASH_SOURCE" "$@"
fi
if [ "$1" = postgres ]; then
  mkdir -p "$PGDATA"; chmod 00700 "$PGDATA" || :
  if [ ! -s "$PGDATA/PG_VERSION" ]; then
    file_env POSTGRES_PASSWORD; file_env POSTGRES_USER; file_env POSTGRES_DB
    : "${POSTGRES_USER:=postgres}" "${POSTGRES_DB:=$POSTGRES_USER}"
    [ -n "${POSTGRES_PASSWORD:-}" ] || { echo "error: database is uninitialized and POSTGRES_PASSWORD is not set" >&2; exit 1; }
    # An arbitrary uid (the chart's runAsUser) has no passwd entry; initdb needs one: nss_wrapper, as the image.
    if ! getent passwd "$(id -u)" >/dev/null; then
      NSS_WRAPPER_PASSWD="$(mktemp)"; NSS_WRAPPER_GROUP="$(mktemp)"
      echo "postgres:x:$(id -u):$(id -g):PostgreSQL:$PGDATA:/bin/false" > "$NSS_WRAPPER_PASSWD"
      echo "postgres:x:$(id -g):" > "$NSS_WRAPPER_GROUP"
      export LD_PRELOAD=/usr/lib/x86_64-linux-gnu/libnss_wrapper.so NSS_WRAPPER_PASSWD NSS_WRAPPER_GROUP
    fi
    initdb --username="$POSTGRES_USER" --pwfile=<(printf '%s\n' "$POSTGRES_PASSWORD") --auth-local=trust \
      --auth-host=scram-sha-256 -D "$PGDATA"
    unset LD_PRELOAD NSS_WRAPPER_PASSWD NSS_WRAPPER_GROUP
    printf "\nhost all all all scram-sha-256\n" >> "$PGDATA/pg_hba.conf"
    pg_ctl -D "$PGDATA" -o "-c listen_addresses='' -c unix_socket_directories=/var/run/postgresql -p 5432" -w start
    if [ "$POSTGRES_DB" != postgres ]; then
      psql -h /var/run/postgresql -v ON_ERROR_STOP=1 --username "$POSTGRES_USER" --dbname postgres -c "CREATE DATABASE \"$POSTGRES_DB\""
    fi
    pg_ctl -D "$PGDATA" -m fast -w stop
    echo "PostgreSQL init process complete; ready for start up."
  fi
  exec postgres -c listen_addresses='*' -c unix_socket_directories=/var/run/postgresql "${@:2}"
fi
exec "$@"
