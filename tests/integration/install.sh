#!/bin/sh
# install.sh BUILD_DIR - `make install` into a scratch DESTDIR with
# PREFIX=/usr, using the binaries already built in BUILD_DIR: every file in
# its place with its mode, paths substituted, a volunteer's probe.conf kept
# on a second install, the man pages lint-clean, the probe's unit accepted by
# systemd-analyze (when there is one), and `make uninstall` removing it all
# but probe.conf.
set -u
BUILD_DIR=$1
. tests/integration/lib.sh

T=$(mktemp -d "${TMPDIR:-/tmp}/wallwatch-install.XXXXXX")
trap 'rm -rf "$T"' EXIT
trap 'exit 130' INT TERM
D=$T/root

# mk TARGET...: make in this tree with the scratch DESTDIR; -o keeps the
# binaries in BUILD_DIR as they are (no rebuild, even if sources changed).
# Nothing from an outer make (MAKEFLAGS carries its command-line variables)
# or the environment moves the paths checked below.
mk() {
	env -u MAKEFLAGS -u MFLAGS -u MAKELEVEL -u BINDIR -u DATADIR \
		-u SYSCONFDIR -u MANDIR -u UNITDIR -u DOCDIR \
		make --no-print-directory BUILD="$BUILD_DIR" DESTDIR="$D" PREFIX=/usr \
		-o "$BUILD_DIR/wallwatch-probe" \
		-o "$BUILD_DIR/wallwatch-collector" "$@"
}

# mode FILE: its permission bits in octal, or "missing".
mode() {
	if [ -e "$1" ]; then stat -c %a "$1"; else echo missing; fi
}

for b in wallwatch-probe wallwatch-collector; do
	if [ ! -x "$BUILD_DIR/$b" ]; then
		echo "$BUILD_DIR/$b is not built" >&2
		exit 1
	fi
done

mk install >"$T/install1.out" 2>&1
check "make install: exit 0" 0 $?
check_match "first install: probe.conf installed" \
	"installed $D/etc/wallwatch/probe.conf" "$(cat "$T/install1.out")"

# Every file, with its mode.
expect() {
	check "$2: mode $1" "$1" "$(mode "$D$2")"
}
expect 755 /usr/bin/wallwatch-probe
expect 755 /usr/bin/wallwatch-collector
for f in testlists/*.csv testlists/fingerprints/*.csv; do
	expect 644 "/usr/share/wallwatch/$f"
done
expect 644 /usr/share/man/man1/wallwatch-probe.1
expect 644 /usr/share/man/man1/wallwatch-collector.1
expect 644 /usr/lib/systemd/system/wallwatch-probe.service
expect 644 /usr/lib/systemd/system/wallwatch-collector.service
expect 644 /usr/share/doc/wallwatch/README.md
for f in docs/*.md; do
	expect 644 "/usr/share/doc/wallwatch/$f"
done
expect 644 /usr/share/doc/wallwatch/collector/README.md
expect 644 /usr/share/doc/wallwatch/probe.conf.example
expect 755 /etc/wallwatch
expect 644 /etc/wallwatch/probe.conf
check "installed binary runs" "wallwatch-probe" \
	"$("$D/usr/bin/wallwatch-probe" --version | cut -d' ' -f1)"

# Paths: the installed files name PREFIX=/usr, never /usr/local.
U=$D/usr/lib/systemd/system
X="ExecStart=/usr/bin/wallwatch-probe daemon"
check "probe unit: ExecStart" "$X --config /etc/wallwatch/probe.conf" \
	"$(grep '^ExecStart=' "$U/wallwatch-probe.service")"
check "probe unit: Documentation" "Documentation=man:wallwatch-probe(1)" \
	"$(grep '^Documentation=' "$U/wallwatch-probe.service")"
check_match "collector unit: ExecStart in /usr/bin" \
	'^ExecStart=/usr/bin/wallwatch-collector ' \
	"$(grep '^ExecStart=' "$U/wallwatch-collector.service")"
check "no /usr/local left in units, man pages, probe.conf" "" \
	"$(grep -l /usr/local "$U"/wallwatch-*.service \
		"$D"/usr/share/man/man1/wallwatch-*.1 \
		"$D/etc/wallwatch/probe.conf")"
check_match "probe man page names the installed test lists" \
	'/usr/share/wallwatch/testlists' \
	"$(cat "$D/usr/share/man/man1/wallwatch-probe.1")"

# probe.conf: every line a comment or blank (the volunteer fills it in), so
# the probe starts with its defaults until then.
check "probe.conf: only comments as shipped" "" \
	"$(grep -Ev '^[[:space:]]*(#|$)' "$D/etc/wallwatch/probe.conf")"

# A second install keeps the volunteer's probe.conf.
printf '# mine\ncollector = https://collector.example.org\n' \
	>"$D/etc/wallwatch/probe.conf"
mk install >"$T/install2.out" 2>&1
check "second make install: exit 0" 0 $?
check "second install: probe.conf untouched" \
	"$(printf '# mine\ncollector = https://collector.example.org')" \
	"$(cat "$D/etc/wallwatch/probe.conf")"
check_match "second install: says it kept probe.conf" \
	"kept $D/etc/wallwatch/probe.conf" "$(cat "$T/install2.out")"

# The man pages: no groff warning, and man renders them (Debian's man-db
# brings groff and col).
if command -v groff >/dev/null 2>&1 && command -v man >/dev/null 2>&1 &&
	command -v col >/dev/null 2>&1; then
	check "groff -man -ww: no warnings" "" \
		"$(groff -man -ww -z "$D"/usr/share/man/man1/wallwatch-*.1 2>&1)"
	for p in wallwatch-probe wallwatch-collector; do
		check_match "man -l $p.1 renders" "^NAME" \
			"$(MANWIDTH=80 man -l "$D/usr/share/man/man1/$p.1" \
				2>/dev/null | col -b)"
	done
else
	not_ok "man pages: groff, man or col missing (apt-get install man-db)"
fi

# systemd-analyze verify needs ExecStart's binary at its path (a copy of the
# unit, alone in its directory, points at the installed one) and looks up
# Documentation=man:wallwatch-probe(1) with man (MANPATH: the installed page).
if command -v systemd-analyze >/dev/null 2>&1; then
	mkdir "$T/units"
	sed "s|/usr/bin/wallwatch-probe|$D/usr/bin/wallwatch-probe|" \
		"$U/wallwatch-probe.service" >"$T/units/wallwatch-probe.service"
	MANPATH=$D/usr/share/man systemd-analyze verify \
		"$T/units/wallwatch-probe.service" \
		>"$T/verify.out" 2>&1
	rc=$?
	check "systemd-analyze verify wallwatch-probe.service" \
		"0 " "$rc $(grep wallwatch-probe "$T/verify.out")"
else
	echo "# systemd-analyze not found: the unit's check is skipped"
fi

# uninstall: everything but probe.conf.
mk uninstall >"$T/uninstall.out" 2>&1
check "make uninstall: exit 0" 0 $?
check "uninstall: only probe.conf and the empty dirs above it are left" \
	"$D/etc/wallwatch/probe.conf" "$(find "$D" -type f)"
check "uninstall: /usr/share/wallwatch and the doc dir removed" \
	"missing missing" \
	"$(mode "$D/usr/share/wallwatch") $(mode "$D/usr/share/doc/wallwatch")"
mk uninstall >"$T/uninstall2.out" 2>&1
check "make uninstall twice: exit 0" 0 $?

finish
