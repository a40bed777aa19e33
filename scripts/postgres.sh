#!/usr/bin/env bash
# A throwaway PostgreSQL cluster for the store's integration tests, built from
# Debian's postgresql binaries (installed with apt-get when missing).
#
#   scripts/postgres.sh start   create (if needed) and start the cluster, create
#                               database markwatch_test; safe to run again
#   scripts/postgres.sh env     print the export line for MARKWATCH_POSTGRES_URL
#   scripts/postgres.sh status  say whether the cluster answers
#   scripts/postgres.sh stop    stop the cluster and delete its data directory
#
# The cluster listens on 127.0.0.1:${MARKWATCH_PG_PORT:-15432} only (no Unix
# socket), trusts every local connection and runs with fsync off: it holds
# nothing worth keeping. initdb refuses to run as root, so as root the cluster
# belongs to the unprivileged `postgres` user that the Debian package creates.
# Its data directory is var/postgres-PORT in the repository (ignored by git), or
# a directory under /tmp when the repository is not reachable by that user;
# MARKWATCH_PG_DIR overrides both.
set -euo pipefail

port="${MARKWATCH_PG_PORT:-15432}"
db=markwatch_test
repo="$(cd "$(dirname "$0")/.." && pwd)"

die() { echo "postgres.sh: $*" >&2; exit 1; }

# run executes a command as the cluster's owner.
run() {
	if [[ $(id -u) == 0 ]]; then
		runuser -u postgres -- "$@"
	else
		"$@"
	fi
}

# find_bin sets bin to the newest /usr/lib/postgresql/VER/bin that has a whole
# server. /usr/local/bin/pg_ctl may be a wrapper, so the real binaries are used.
find_bin() {
	bin=""
	local d
	for d in $(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V); do
		if [[ -x $d/initdb && -x $d/pg_ctl && -x $d/postgres && -x $d/pg_isready && -x $d/psql ]]; then
			bin="$d"
		fi
	done
	[[ -n $bin ]]
}

install_server() {
	command -v apt-get >/dev/null || die "no PostgreSQL server under /usr/lib/postgresql and no apt-get to install one"
	[[ $(id -u) == 0 ]] || die "no PostgreSQL server under /usr/lib/postgresql; install it: sudo apt-get install postgresql"
	echo "postgres.sh: installing Debian's postgresql package" >&2
	export DEBIAN_FRONTEND=noninteractive
	apt-get update -qq
	apt-get install -y -qq --no-install-recommends postgresql >/dev/null
}

# data_dir sets dir to the cluster's data directory (not created here).
data_dir() {
	if [[ -n ${MARKWATCH_PG_DIR:-} ]]; then
		dir="$MARKWATCH_PG_DIR"
	elif [[ $(id -u) != 0 ]] || runuser -u postgres -- test -x "$repo" 2>/dev/null; then
		dir="$repo/var/postgres-$port"
	else
		dir="${TMPDIR:-/tmp}/markwatch-postgres-$port"
	fi
}

is_ready() { "$bin/pg_isready" -q -h 127.0.0.1 -p "$port" -d postgres -U postgres; }

start() {
	find_bin || { install_server && find_bin; } || die "no PostgreSQL server binaries after installing"
	if [[ $(id -u) == 0 ]] && ! id postgres >/dev/null 2>&1; then
		die "no postgres system user to own the cluster (the postgresql package creates it)"
	fi
	data_dir
	local version
	version="$("$bin/postgres" --version | awk '{print $3}' | cut -d. -f1)"
	# A directory from a crashed initdb or another major version is useless.
	if [[ -d $dir && "$(cat "$dir/PG_VERSION" 2>/dev/null)" != "$version" ]]; then
		run "$bin/pg_ctl" -D "$dir" stop -m immediate >/dev/null 2>&1 || true
		rm -rf "$dir"
	fi
	if [[ ! -d $dir ]]; then
		mkdir -p "$dir"
		[[ $(id -u) == 0 ]] && chown postgres: "$dir"
		chmod 700 "$dir"
		run "$bin/initdb" -D "$dir" -U postgres --auth=trust --encoding=UTF8 --locale=C --no-sync >"$dir.initdb.log" 2>&1 ||
			{ cat "$dir.initdb.log" >&2; rm -rf "$dir"; die "initdb failed"; }
		rm -f "$dir.initdb.log"
		run tee -a "$dir/postgresql.conf" >/dev/null <<EOF
# markwatch test cluster: loopback only, no socket, speed over durability.
listen_addresses = '127.0.0.1'
port = $port
unix_socket_directories = ''
fsync = off
synchronous_commit = off
full_page_writes = off
max_connections = 100
EOF
	fi
	if ! run "$bin/pg_ctl" -D "$dir" status >/dev/null 2>&1; then
		run "$bin/pg_ctl" -D "$dir" -l "$dir/server.log" -w -t 60 start >/dev/null ||
			{ tail -n 20 "$dir/server.log" >&2; die "the server did not start (is port $port taken?)"; }
	fi
	local i
	for ((i = 0; i < 120; i++)); do
		is_ready && break
		sleep 0.25
	done
	is_ready || { tail -n 20 "$dir/server.log" >&2; die "the server does not answer on 127.0.0.1:$port"; }
	if [[ "$("$bin/psql" -h 127.0.0.1 -p "$port" -U postgres -d postgres -tAc "SELECT 1 FROM pg_database WHERE datname = '$db'")" != 1 ]]; then
		"$bin/psql" -h 127.0.0.1 -p "$port" -U postgres -d postgres -qc "CREATE DATABASE $db" >/dev/null
	fi
	echo "postgres.sh: PostgreSQL $version on 127.0.0.1:$port, data in $dir" >&2
}

stop() {
	data_dir
	if find_bin && [[ -f $dir/PG_VERSION ]]; then
		run "$bin/pg_ctl" -D "$dir" -m fast -w stop >/dev/null 2>&1 || true
	fi
	rm -rf "$dir"
}

case "${1:-}" in
start) start ;;
stop) stop ;;
env) echo "export MARKWATCH_POSTGRES_URL='postgres://postgres@127.0.0.1:$port/$db?sslmode=disable'" ;;
status)
	find_bin || die "no PostgreSQL server installed"
	if is_ready; then echo "running on 127.0.0.1:$port"; else echo "not running"; exit 1; fi
	;;
*) die "usage: $0 start|stop|env|status" ;;
esac
