# Sourced by .ci/run: start a throwaway PostgreSQL server on loopback for the tests, export
# ALLIANCE_TEST_PG (an administrator URL, see tests/backends.py) and stop it at exit.
# As root, initdb and pg_ctl run as the `postgres` user. fsync is off: the server holds
# nothing but test data, and the crash tests kill clients, never the server.
pg_find() {
    pg_bin=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1 || true)
    if [ -z "$pg_bin" ] && command -v initdb >/dev/null; then
        pg_bin=$(dirname "$(command -v initdb)")
    fi
}
pg_find
if [ -z "$pg_bin" ] && [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
    echo "Installing PostgreSQL for the tests (apt-get install postgresql)" >&2
    DEBIAN_FRONTEND=noninteractive apt-get install -y -q postgresql >/dev/null
    pg_find
fi
if [ -z "$pg_bin" ]; then
    echo "PostgreSQL is not installed and cannot be installed here: CI needs it" >&2
    return 1
fi
pg_dir=$(mktemp -d /tmp/alliance-pg.XXXXXX)
pg_port=$(python -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
pg_as=()
if [ "$(id -u)" = 0 ]; then
    chown postgres "$pg_dir"
    pg_as=(runuser -u postgres --)
fi
pg_stop() {
    "${pg_as[@]}" "$pg_bin/pg_ctl" -D "$pg_dir/data" -m immediate stop >/dev/null 2>&1 || true
    rm -rf "$pg_dir"
}
trap pg_stop EXIT
"${pg_as[@]}" "$pg_bin/initdb" -D "$pg_dir/data" -U postgres -A trust --no-sync >/dev/null
"${pg_as[@]}" "$pg_bin/pg_ctl" -D "$pg_dir/data" -l "$pg_dir/server.log" -w -o \
    "-c listen_addresses=127.0.0.1 -p $pg_port -k $pg_dir -c fsync=off -c full_page_writes=off -c synchronous_commit=off" \
    start >/dev/null
export ALLIANCE_TEST_PG="postgresql+psycopg://postgres@127.0.0.1:$pg_port/postgres"
echo "PostgreSQL $("$pg_bin/postgres" --version | awk '{print $3}') for the tests on 127.0.0.1:$pg_port" >&2
