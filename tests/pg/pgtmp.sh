#!/bin/sh
# pgtmp.sh - a throwaway PostgreSQL 15 cluster for the tests (issue 14).
#
#   pgtmp.sh start            start one; prints its conninfo
#                             (postgresql:///ww?host=DIR&user=wallwatch)
#   pgtmp.sh standby CONNINFO start a hot standby of that cluster (one of
#                             pgtmp.sh's) in a directory of its own:
#                             pg_basebackup -R over the primary's Unix
#                             socket, then streaming replication; prints
#                             its conninfo (stop it the same way)
#   pgtmp.sh stop CONNINFO|DIR  stop it and remove everything it made
#   pgtmp.sh run CMD [ARG...] start one, run CMD with WW_TEST_PG_CONNINFO
#                             set to its conninfo, stop it (even when CMD
#                             fails or the script is interrupted); CMD's
#                             exit status is the script's
#
# The cluster lives in a mktemp directory: its data, its log and its Unix
# socket (listen_addresses = '': no TCP at all). initdb refuses to run as
# root, and CI runs as root: then the cluster belongs to user nobody (the
# directory is given to it). fsync is off: a test's data need not survive
# a power cut. wal_level is replica (PostgreSQL's default) and initdb's
# pg_hba.conf trusts local replication connections: a standby needs
# nothing more of its primary. Debian's binaries are in /usr/lib/postgresql/15/bin (PGBIN
# overrides). pg_ctl -w waits until the server accepts connections.
set -eu

PGBIN=${PGBIN:-/usr/lib/postgresql/15/bin}
DBNAME=ww
DBUSER=wallwatch

die() {
	echo "pgtmp.sh: $*" >&2
	exit 1
}

# Run a PostgreSQL program as the cluster's owner, from inside its
# directory (root's working directory may be closed to nobody).
as_owner() {
	_dir=$1
	shift
	if [ "$(id -u)" -ne 0 ]; then
		(cd "$_dir" && "$@")
	elif command -v runuser >/dev/null 2>&1; then
		(cd "$_dir" && runuser -u nobody -- "$@")
	else
		(cd "$_dir" && setpriv --reuid=nobody --regid=nogroup \
			--clear-groups -- "$@")
	fi
}

# The directory of a conninfo (its host=) or the directory itself.
dir_of() {
	case $1 in
	postgresql:*) printf '%s\n' "$1" | sed -n 's/.*[?&]host=\([^&]*\).*/\1/p' ;;
	*) printf '%s\n' "$1" ;;
	esac
}

stop() {
	_dir=$(dir_of "$1")
	# only ever a directory this script made
	case $_dir in
	*/wwpg.*) ;;
	*) die "stop: $1 is not a cluster of pgtmp.sh" ;;
	esac
	[ -d "$_dir" ] || return 0
	if [ -f "$_dir/data/postmaster.pid" ]; then
		as_owner "$_dir" "$PGBIN/pg_ctl" -D "$_dir/data" -m immediate \
			-w stop >/dev/null 2>&1 || true
	fi
	rm -rf "$_dir"
}

# A new directory for a cluster in $dir, owned by the clusters' user;
# from here on, a failure removes it.
new_dir() {
	dir=$(mktemp -d "${TMPDIR:-/tmp}/wwpg.XXXXXX")
	trap 'stop "$dir"' EXIT
	trap 'exit 1' INT TERM HUP
	if [ "$(id -u)" -eq 0 ]; then
		chown nobody "$dir"
	fi
	chmod 0755 "$dir"
}

# serve DIR: start the server of DIR/data on DIR's socket (pg_ctl -w: a
# standby once it accepts read-only connections).
serve() {
	opts="-c listen_addresses='' -c unix_socket_directories='$1'"
	opts="$opts -c fsync=off -c synchronous_commit=off"
	opts="$opts -c full_page_writes=off -c max_connections=40"
	as_owner "$1" "$PGBIN/pg_ctl" -D "$1/data" -l "$1/log" -w \
		-t 60 -o "$opts" start \
		>/dev/null 2>&1 || {
		cat "$1/log" >&2 2>/dev/null || true
		die "the server did not start"
	}
}

start() {
	[ -x "$PGBIN/initdb" ] ||
		die "no $PGBIN/initdb: install postgresql-15 (make check-deps)"
	new_dir
	as_owner "$dir" "$PGBIN/initdb" -D "$dir/data" -U "$DBUSER" \
		-A trust -E UTF8 --locale=C --no-sync >"$dir/initdb.log" 2>&1 ||
		{
			cat "$dir/initdb.log" >&2
			die "initdb failed"
		}
	serve "$dir"
	"$PGBIN/psql" -X -q -h "$dir" -U "$DBUSER" -d postgres \
		-c "CREATE DATABASE $DBNAME" >/dev/null ||
		die "CREATE DATABASE failed"
	trap - EXIT INT TERM HUP
	echo "postgresql:///$DBNAME?host=$dir&user=$DBUSER"
}

# standby CONNINFO: a copy of that cluster (-X stream: with the WAL
# written meanwhile; -R: standby.signal and primary_conninfo naming the
# primary's socket directory) that replays what the primary writes.
standby() {
	_primary=$(dir_of "$1")
	case $_primary in
	*/wwpg.*) ;;
	*) die "standby: $1 is not a cluster of pgtmp.sh" ;;
	esac
	[ -S "$_primary/.s.PGSQL.5432" ] || die "standby: $1 is not running"
	new_dir
	as_owner "$dir" "$PGBIN/pg_basebackup" -h "$_primary" -U "$DBUSER" \
		-D "$dir/data" -R -X stream -c fast --no-sync \
		>"$dir/basebackup.log" 2>&1 || {
		cat "$dir/basebackup.log" >&2
		die "pg_basebackup failed"
	}
	serve "$dir"
	trap - EXIT INT TERM HUP
	echo "postgresql:///$DBNAME?host=$dir&user=$DBUSER"
}

case ${1:-} in
start)
	start
	;;
standby)
	[ $# -eq 2 ] || die "usage: pgtmp.sh standby CONNINFO"
	standby "$2"
	;;
stop)
	[ $# -eq 2 ] || die "usage: pgtmp.sh stop CONNINFO|DIR"
	stop "$2"
	;;
run)
	shift
	[ $# -ge 1 ] || die "usage: pgtmp.sh run CMD [ARG...]"
	ci=$(start)
	trap 'stop "$ci"' EXIT
	trap 'exit 1' INT TERM HUP
	status=0
	WW_TEST_PG_CONNINFO=$ci "$@" || status=$?
	exit $status
	;;
*)
	die "usage: pgtmp.sh start | standby CONNINFO | stop CONNINFO|DIR |" \
		"run CMD [ARG...]"
	;;
esac
