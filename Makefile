# Wallwatch - one non-recursive GNU Makefile (see README.md).
#
#   make            build build/wallwatch-probe
#   make run        install missing packages, build, run the default lists
#   make check      install missing packages, build, run every test
#   make bench      run the benchmarks under bench/ (prints figures;
#                   make bench-import: the import of OONI's files alone)
#   make soak       the collector under attack for 10 minutes (bench/soak.sh)
#   make fuzz       libFuzzer builds of every fuzz target (clang)
#   make install    PREFIX=/usr/local DESTDIR= (make uninstall: the same)

PKG_CONFIG ?= pkg-config
CC ?= cc
PREFIX ?= /usr/local
BINDIR ?= $(PREFIX)/bin
DATADIR ?= $(PREFIX)/share/wallwatch
SYSCONFDIR ?= /etc
MANDIR ?= $(PREFIX)/share/man
UNITDIR ?= $(PREFIX)/lib/systemd/system
DOCDIR ?= $(PREFIX)/share/doc/wallwatch
BUILD ?= build
VERSION := 0.1.0

PROBE_PKGS = libevent libevent_openssl libcares libcurl openssl jansson \
	     libidn2
PKG_CFLAGS = $(shell $(PKG_CONFIG) --cflags $(PROBE_PKGS) 2>/dev/null)
# libpcap: the engine's packet capture (engine/loop/capture.c); Debian's
# libpcap-dev has a .pc file only from 1.10, so plain -lpcap.
PKG_LIBS = $(shell $(PKG_CONFIG) --libs $(PROBE_PKGS) 2>/dev/null) -lpcap -lm
# The probe's uploads are gzip'd.
ZLIB_LIBS = $(shell $(PKG_CONFIG) --libs zlib 2>/dev/null)
# The collector's storage only (the probe does not link them): SQLite, and
# libpq for --db postgresql://... (collector/store_pg*.c); libzstd for
# `import` of OONI's .zst files (collector/import_read.c).
STORE_PKGS = sqlite3 zlib libpq libzstd
STORE_CFLAGS = $(shell $(PKG_CONFIG) --cflags $(STORE_PKGS) 2>/dev/null)
STORE_LIBS = $(shell $(PKG_CONFIG) --libs $(STORE_PKGS) 2>/dev/null)
# The collector's ingest threads (collector/ingest.c).
THREAD_LIBS = $(shell $(PKG_CONFIG) --libs libevent_pthreads 2>/dev/null) \
	      -pthread
CMOCKA_CFLAGS = $(shell $(PKG_CONFIG) --cflags cmocka 2>/dev/null)
CMOCKA_LIBS = $(shell $(PKG_CONFIG) --libs cmocka 2>/dev/null)

WARN = -Wall -Wextra -Wformat=2 -Wshadow -Wstrict-prototypes \
       -Wmissing-prototypes -Wpointer-arith -Wvla
ifneq ($(WERROR),0)
WARN += -Werror
endif
CFLAGS ?= -O2 -g
ALL_CFLAGS = -std=c11 -D_DEFAULT_SOURCE $(WARN) $(CFLAGS) -Iengine/core \
	     -Iengine/loop \
	     $(PKG_CFLAGS) $(STORE_CFLAGS) -DWW_VERSION='"$(VERSION)"' \
	     -DWW_DATADIR='"$(DATADIR)"' -MMD -MP
ALL_LDFLAGS = $(LDFLAGS)
ifdef SANITIZE
ALL_CFLAGS += -fsanitize=$(SANITIZE) -fno-omit-frame-pointer \
	      -fno-sanitize-recover=all
ALL_LDFLAGS += -fsanitize=$(SANITIZE)
endif

# The engine in two layers (README.md, "Source tour"): engine/core, pure
# code (parsers, the JSON model, the verdict, fingerprints, test lists),
# which never includes the event loop's headers (`make layers-check`);
# engine/loop, what runs on the libevent loop (DNS, TCP, TLS and HTTP
# steps, c-ares and curl glue, the capture, the memory budget).
ENGINE_SRC := $(wildcard engine/core/*.c engine/loop/*.c)
PROBE_SRC := $(wildcard probe/*.c)
COLLECTOR_SRC := $(wildcard collector/*.c)
UNIT_SRC := $(wildcard tests/unit/test_*.c)
FAKE_SRC := $(wildcard tests/fake/*.c)
FUZZ_SRC := $(wildcard tests/fuzz/fuzz_*.c)

OBJ = $(BUILD)/obj
ENGINE_OBJ := $(ENGINE_SRC:%.c=$(OBJ)/%.o)
PROBE_OBJ := $(PROBE_SRC:%.c=$(OBJ)/%.o)
COLLECTOR_OBJ := $(COLLECTOR_SRC:%.c=$(OBJ)/%.o) $(OBJ)/gen/web_assets.o
WEB_ASSETS := $(sort $(wildcard collector/web/*))
FAKE_OBJ := $(FAKE_SRC:%.c=$(OBJ)/%.o)
# Three static libraries: the engine's code, the probe's and the
# collector's without their main.c. The programs link their objects; the
# unit tests and fuzz replays link the libraries (the linker takes only the
# members a test needs), so a new .c file is in them without an edit here.
LIB := $(BUILD)/libwallwatch.a
PROBE_LIB := $(BUILD)/libprobe.a
COLLECTOR_LIB := $(BUILD)/libcollector.a
PROBE_LIB_OBJ := $(filter-out $(OBJ)/probe/main.o,$(PROBE_OBJ))
COLLECTOR_LIB_OBJ := $(filter-out $(OBJ)/collector/main.o,$(COLLECTOR_OBJ))
# What a test links: the libraries, the most dependent first, and every
# library any of them needs.
TEST_LIBS = $(COLLECTOR_LIB) $(PROBE_LIB) $(LIB)
TEST_LDLIBS = $(PKG_LIBS) $(STORE_LIBS) $(ZLIB_LIBS) $(THREAD_LIBS)
PROBE := $(BUILD)/wallwatch-probe
COLLECTOR := $(BUILD)/wallwatch-collector
CENSOR := $(BUILD)/wallwatch-censor
FAKENET := $(BUILD)/fakenet
FAKECOL := $(BUILD)/fakecollector
SLOWHTTP := $(BUILD)/slowhttp
UNIT_BINS := $(UNIT_SRC:tests/unit/%.c=$(BUILD)/tests/%)
FUZZ_NAMES := $(FUZZ_SRC:tests/fuzz/fuzz_%.c=%)
REPLAY_BINS := $(FUZZ_NAMES:%=$(BUILD)/fuzz/replay_%)

.PHONY: all libs deps check-deps bench-deps run check unit unit-pg unit-asan \
	fuzz-replay \
	integration integration-pg integration-asan web offline lab bench \
	bench-import soak fuzz install uninstall \
	clean \
	format format-check layers-check

all: $(PROBE) $(COLLECTOR)

$(OBJ)/%.o: %.c
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) -c -o $@ $<

$(OBJ)/tests/unit/%.o: tests/unit/%.c
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) $(CMOCKA_CFLAGS) -c -o $@ $<

libs: $(LIB) $(PROBE_LIB) $(COLLECTOR_LIB)

$(LIB): $(ENGINE_OBJ)
	@mkdir -p $(dir $@)
	rm -f $@
	ar rcs $@ $^

$(PROBE_LIB): $(PROBE_LIB_OBJ)
	@mkdir -p $(dir $@)
	rm -f $@
	ar rcs $@ $^

$(COLLECTOR_LIB): $(COLLECTOR_LIB_OBJ)
	@mkdir -p $(dir $@)
	rm -f $@
	ar rcs $@ $^

# --wrap=json_dumps: see engine/loop/memacct.h (the probe counts its memory).
$(PROBE): $(PROBE_OBJ) $(LIB)
	$(CC) $(ALL_LDFLAGS) -Wl,--wrap=json_dumps -o $@ $(PROBE_OBJ) $(LIB) \
		$(PKG_LIBS) $(ZLIB_LIBS)

$(COLLECTOR): $(COLLECTOR_OBJ) $(LIB)
	$(CC) $(ALL_LDFLAGS) -o $@ $(COLLECTOR_OBJ) $(LIB) $(PKG_LIBS) \
		$(STORE_LIBS) $(THREAD_LIBS)

# The web view's files, inside the collector's binary.
$(BUILD)/gen/web_assets.c: $(WEB_ASSETS) tools/embed-web.sh
	@mkdir -p $(dir $@)
	sh tools/embed-web.sh $@ $(WEB_ASSETS)

$(OBJ)/gen/web_assets.o: $(BUILD)/gen/web_assets.c
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) -Icollector -c -o $@ $<

# The censor of the lab (tests/lab): libpcap to watch, raw sockets to inject.
# censor.c includes the lab's DPI and VPN rules (dpi.c, vpndpi.c,
# vpncensor.c): an edit of any of them rebuilds it.
$(CENSOR): tests/lab/censor.c $(wildcard tests/lab/*.c tests/lab/*.h) $(LIB)
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) $(ALL_LDFLAGS) -o $@ tests/lab/censor.c $(LIB) \
		$(PKG_LIBS)

$(FAKENET): $(FAKE_OBJ) $(LIB)
	$(CC) $(ALL_LDFLAGS) -o $@ $(FAKE_OBJ) $(LIB) $(PKG_LIBS)

# The probe's upload tests' collector (tests/fakecollector).
$(FAKECOL): $(OBJ)/tests/fakecollector/main.o $(LIB)
	$(CC) $(ALL_LDFLAGS) -o $@ $< $(LIB) $(PKG_LIBS) \
		$(shell $(PKG_CONFIG) --libs zlib 2>/dev/null)

# Raw, slow and measuring HTTP clients of edge.sh (tests/slowhttp).
$(SLOWHTTP): $(OBJ)/tests/slowhttp/main.o
	$(CC) $(ALL_LDFLAGS) -o $@ $<

$(BUILD)/tests/%: $(OBJ)/tests/unit/%.o $(TEST_LIBS)
	@mkdir -p $(dir $@)
	$(CC) $(ALL_LDFLAGS) -o $@ $< $(TEST_LIBS) $(CMOCKA_LIBS) $(TEST_LDLIBS)

# The store's batch ingest against COPY, without HTTP (bench/store_bench.c).
STORE_BENCH := $(BUILD)/store-bench
$(STORE_BENCH): bench/store_bench.c $(TEST_LIBS)
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) -Icollector $(ALL_LDFLAGS) -o $@ bench/store_bench.c \
		$(TEST_LIBS) $(TEST_LDLIBS)

$(BUILD)/fuzz/replay_%: tests/fuzz/fuzz_%.c tests/fuzz/replay.c $(TEST_LIBS)
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) $(ALL_LDFLAGS) -o $@ tests/fuzz/fuzz_$*.c \
		tests/fuzz/replay.c $(TEST_LIBS) $(TEST_LDLIBS)

# --- set-up --------------------------------------------------------------
deps:
	@sh tools/install-deps.sh build
check-deps:
	@sh tools/install-deps.sh check
bench-deps:
	@sh tools/install-deps.sh bench

# --- the main job ----------------------------------------------------------
run: deps
	@$(MAKE) --no-print-directory all
	@sh tools/run-local.sh $(BUILD) $(RUN_ARGS)

# --- tests -----------------------------------------------------------------
unit: $(UNIT_BINS)
	@sh tests/run-unit.sh $(UNIT_BINS)

# The store's conformance suite against PostgreSQL: the store, timeline
# and submitters tests again, on a throwaway PostgreSQL 15 cluster (tests/pg/pgtmp.sh),
# stopped and removed even when they fail. The store and timeline tests
# run twice: as they come (their small batches go a statement per row)
# and with every batch sent by COPY (WW_TEST_PG_BULK_MIN=1; the store
# does that from 64 measurements on).
PG_UNIT_BINS := $(BUILD)/tests/test_store $(BUILD)/tests/test_timeline \
		$(BUILD)/tests/test_submitters $(BUILD)/tests/test_store_ro \
		$(BUILD)/tests/test_alerts \
		$(BUILD)/tests/test_store_network \
		$(BUILD)/tests/test_store_fold
unit-pg: $(PG_UNIT_BINS)
	@sh tests/pg/pgtmp.sh run sh -c 'sh tests/run-unit.sh $(PG_UNIT_BINS) && \
		echo "== every batch by COPY (WW_TEST_PG_BULK_MIN=1)" && \
		WW_TEST_PG_BULK_MIN=1 sh tests/run-unit.sh \
		$(BUILD)/tests/test_store $(BUILD)/tests/test_timeline \
		$(BUILD)/tests/test_store_fold' 

fuzz-replay: $(REPLAY_BINS)
	@sh tests/fuzz/replay-all.sh $(BUILD)/fuzz $(FUZZ_NAMES)

unit-asan:
	@$(MAKE) --no-print-directory BUILD=build/asan \
		SANITIZE=address,undefined CFLAGS="-O1 -g" unit fuzz-replay

# The integration scripts run up to INTEGRATION_JOBS at a time
# (tests/integration/parallel.sh): they mostly wait on the timeouts they
# provoke, and each has its own temporary directory and its own servers on
# ports the kernel picks, so they need not take turns. Each one's output
# is printed whole, in the order listed; the first to fail stops new ones
# from starting. INTEGRATION_JOBS=1: one after the other. (Measured with
# make check's pool of 34, plain, ASan and PostgreSQL: 6 at a time 98 s,
# all at once 75-80 s, edge.sh alone ~60 s; one after the other ~510 s.)
INTEGRATION_JOBS ?= 8
# $(IT)/NAME.sh: the command that runs the script NAME.sh ($(AIT)/: under
# the sanitizers' options).
IT := sh tests/integration
# LABEL "COMMAND" pairs, the longest first (they start in this order;
# the seconds each took are printed).
INTEGRATION_RUNS = \
	edge "$(IT)/edge.sh $(COLLECTOR) $(SLOWHTTP)" \
	volunteer "$(IT)/volunteer.sh $(PROBE) $(COLLECTOR) $(FAKENET) $(FAKECOL)" \
	ingest "$(IT)/ingest.sh $(PROBE) $(COLLECTOR) $(FAKENET)" \
	memory "$(IT)/memory.sh $(PROBE) $(FAKENET)" \
	poison "$(IT)/poison.sh $(PROBE) $(COLLECTOR) $(FAKENET)" \
	durability "$(IT)/durability.sh $(PROBE) $(COLLECTOR) $(FAKENET)" \
	identity "$(IT)/identity.sh $(PROBE) $(COLLECTOR) $(FAKENET)" \
	cli "$(IT)/cli.sh $(PROBE) $(FAKENET)" \
	limits "$(IT)/limits.sh $(PROBE) $(COLLECTOR) $(FAKENET)" \
	control "$(IT)/control.sh $(PROBE) $(COLLECTOR) $(FAKENET)" \
	apiedge "$(IT)/apiedge.sh $(COLLECTOR) $(FAKENET) $(PROBE)" \
	hops "$(IT)/hops.sh $(PROBE) $(COLLECTOR) $(FAKENET)" \
	run "$(IT)/run.sh $(PROBE) $(FAKENET)" \
	capture "$(IT)/capture.sh $(PROBE) $(FAKENET)" \
	dnslate "$(IT)/dnslate.sh $(PROBE) $(FAKENET)" \
	reanalyze "$(IT)/reanalyze.sh $(COLLECTOR)" \
	ooni "$(IT)/ooni.sh $(COLLECTOR)" \
	alerts "$(IT)/alerts.sh $(COLLECTOR)" \
	import "$(IT)/import.sh $(COLLECTOR)" \
	install "$(IT)/install.sh $(BUILD)"

# The probe and the collector under ASan+UBSan (LeakSanitizer included)
# against the lab: the same scripts but cli, reanalyze and install (and
# import.sh without its bounds on RSS).
ASAN_BUILD := build/asan
ASAN_MAKE = $(MAKE) --no-print-directory BUILD=$(ASAN_BUILD) \
	SANITIZE=address,undefined CFLAGS="-O1 -g"
AP := $(ASAN_BUILD)/wallwatch-probe
AC := $(ASAN_BUILD)/wallwatch-collector
AIT := env ASAN_OPTIONS=detect_leaks=1:abort_on_error=0 sh tests/integration
INTEGRATION_ASAN_RUNS = \
	asan:edge "$(AIT)/edge.sh $(AC) $(SLOWHTTP)" \
	asan:volunteer "$(AIT)/volunteer.sh $(AP) $(AC) $(FAKENET) $(FAKECOL)" \
	asan:ingest "$(AIT)/ingest.sh $(AP) $(AC) $(FAKENET)" \
	asan:durability "$(AIT)/durability.sh $(AP) $(AC) $(FAKENET)" \
	asan:poison "$(AIT)/poison.sh $(AP) $(AC) $(FAKENET)" \
	asan:memory "$(AIT)/memory.sh $(AP) $(FAKENET)" \
	asan:identity "$(AIT)/identity.sh $(AP) $(AC) $(FAKENET)" \
	asan:apiedge "$(AIT)/apiedge.sh $(AC) $(FAKENET) $(AP)" \
	asan:hops "$(AIT)/hops.sh $(AP) $(AC) $(FAKENET)" \
	asan:control "$(AIT)/control.sh $(AP) $(AC) $(FAKENET)" \
	asan:limits "$(AIT)/limits.sh $(AP) $(AC) $(FAKENET)" \
	asan:capture "$(AIT)/capture.sh $(AP) $(FAKENET)" \
	asan:run "$(AIT)/run.sh $(AP) $(FAKENET)" \
	asan:dnslate "$(AIT)/dnslate.sh $(AP) $(FAKENET)" \
	asan:alerts "$(AIT)/alerts.sh $(AC)" \
	asan:import "$(AIT)/import.sh $(AC)"

integration-asan: $(FAKENET) $(FAKECOL) $(SLOWHTTP)
	@$(ASAN_MAKE) $(AP) $(AC)
	@sh tests/integration/parallel.sh $(INTEGRATION_JOBS) \
		$(INTEGRATION_ASAN_RUNS)

# INTEGRATION_WITH="asan pg": the ASan scripts, the PostgreSQL ones or both
# in the same pool as the plain ones (make check: one script's waits and
# another's work overlap).
INTEGRATION_WITH ?=
integration: $(PROBE) $(COLLECTOR) $(FAKENET) $(FAKECOL) $(SLOWHTTP)
ifneq ($(filter asan,$(INTEGRATION_WITH)),)
	@$(ASAN_MAKE) $(AP) $(AC)
endif
	@sh tests/integration/parallel.sh $(INTEGRATION_JOBS) \
		$(if $(filter asan,$(INTEGRATION_WITH)),$(INTEGRATION_ASAN_RUNS)) \
		$(if $(filter pg,$(INTEGRATION_WITH)),$(INTEGRATION_PG_RUNS)) \
		$(INTEGRATION_RUNS)

# The collector on PostgreSQL, each script on throwaway clusters of its own
# (tests/pg/pgtmp.sh: a temporary directory, a Unix socket, no TCP):
# copy-store, two collectors on one database, a read-only collector on a
# streaming replica, the import of files.
INTEGRATION_PG_RUNS = \
	pg:copystore "$(IT)/copystore.sh $(PROBE) $(COLLECTOR) $(FAKENET)" \
	pg:pgmulti "$(IT)/pgmulti.sh $(PROBE) $(COLLECTOR) $(FAKENET)" \
	pg:pgalerts "$(IT)/pgalerts.sh $(COLLECTOR)" \
	pg:pgreplica "$(IT)/pgreplica.sh $(PROBE) $(COLLECTOR) $(FAKENET)" \
	pg:ooni "$(IT)/ooni.sh $(COLLECTOR) pg" \
	pg:import "$(IT)/import.sh $(COLLECTOR) pg"
integration-pg: $(PROBE) $(COLLECTOR) $(FAKENET)
	@sh tests/integration/parallel.sh $(INTEGRATION_JOBS) \
		$(INTEGRATION_PG_RUNS)

# The web view in headless Chromium (screenshots in build/test-artifacts).
web: $(PROBE) $(COLLECTOR) $(FAKENET)
	@sh tests/web/run.sh $(COLLECTOR) $(PROBE) $(FAKENET)
	@sh tests/web/alerts.sh $(COLLECTOR)
	@sh tests/web/network.sh $(COLLECTOR) $(PROBE) $(FAKENET)
	@sh tests/web/measurement.sh $(COLLECTOR) $(PROBE) $(FAKENET)

# The censor lab: network namespaces, needs root (skipped with a message
# otherwise).
lab: all $(FAKENET) $(CENSOR)
	@sh tests/lab/run.sh $(BUILD)

# `make run` on a machine without network (a namespace with only
# loopback; needs root, skipped with a message otherwise).
offline: all $(FAKENET)
	@sh tests/offline/run.sh $(BUILD) $(FAKENET)

# The lab runs beside the other tests (tests/check.sh): it mostly waits.
# Everything the groups that run side by side need is built first, CHECK_JOBS
# compilers at a time (the machine's cores), the ASan build too: two
# makes must not build the same file at once.
CHECK_JOBS ?= 2
check: check-deps
	@$(MAKE) --no-print-directory -j$(CHECK_JOBS) all $(FAKENET) \
		$(FAKECOL) $(SLOWHTTP) $(CENSOR) $(UNIT_BINS) $(REPLAY_BINS)
	@$(ASAN_MAKE) -j$(CHECK_JOBS) $(AP) $(AC) \
		$(patsubst $(BUILD)/%,$(ASAN_BUILD)/%,$(UNIT_BINS) $(REPLAY_BINS))
	@sh tests/check.sh "$(MAKE)" $(BUILD)

bench: bench-deps
	@$(MAKE) --no-print-directory all $(FAKENET) $(STORE_BENCH)
	@sh bench/run.sh $(PROBE) $(FAKENET)
	@sh bench/probe-capture.sh $(PROBE) $(FAKENET)
	@sh bench/collector.sh $(BUILD)
	@sh bench/collector-pg.sh $(BUILD)
	@sh bench/ooni-import.sh $(BUILD)

# The import of OONI's files against the native ingest alone
# (bench/ooni-import.sh; BENCH_IMPORT_N lines, default 100,000).
bench-import: bench-deps
	@$(MAKE) --no-print-directory $(COLLECTOR)
	@sh bench/ooni-import.sh $(BUILD)

# The collector under probes, a reader, a slowloris and a poisoner at once
# for SOAK_SECONDS (default 600): nothing acknowledged lost, RSS flat.
SOAK_SECONDS ?= 600
soak: check-deps
	@$(MAKE) --no-print-directory all $(FAKENET) $(SLOWHTTP)
	@sh bench/soak.sh $(BUILD) $(SOAK_SECONDS)

# libFuzzer builds: make fuzz FUZZ_SECONDS=60 (FUZZ_NAMES=conf for one).
# The libraries are built again with clang, instrumented for libFuzzer
# (fuzzer-no-link) and the sanitizers, in build/libfuzzer.
FUZZ_SECONDS ?= 30
FUZZ_BUILD = build/libfuzzer
fuzz: check-deps
	@$(MAKE) --no-print-directory BUILD=$(FUZZ_BUILD) CC=clang \
		SANITIZE=fuzzer-no-link,address,undefined CFLAGS="-g -O1" libs
	@sh tests/fuzz/run-fuzz.sh $(FUZZ_SECONDS) $(FUZZ_BUILD) $(FUZZ_NAMES)

# --- install ----------------------------------------------------------------
# The files name the /usr/local defaults; these put the real paths in. The
# man pages keep /etc/wallwatch/probe.conf: it is the probe's built-in
# default, whatever SYSCONFDIR is (the unit names its --config).
MAN_SED = -e 's|/usr/local/bin|$(BINDIR)|g' \
	  -e 's|/usr/local/share/wallwatch|$(DATADIR)|g' \
	  -e 's|/usr/local/share/doc/wallwatch|$(DOCDIR)|g' \
	  -e 's|/usr/local/lib/systemd/system|$(UNITDIR)|g'
INSTALL_SED = $(MAN_SED) -e 's|/etc/wallwatch|$(SYSCONFDIR)/wallwatch|g'
MAN_PAGES = docs/man/wallwatch-probe.1 docs/man/wallwatch-collector.1
UNITS = dist/wallwatch-probe.service dist/wallwatch-collector.service
PROBE_CONF = $(DESTDIR)$(SYSCONFDIR)/wallwatch/probe.conf

# A volunteer's probe.conf is never overwritten: a second install leaves it
# and says so (the new example is always in DOCDIR/probe.conf.example).
# uninstall keeps probe.conf and the services' state in /var/lib.
install: $(PROBE) $(COLLECTOR)
	install -d $(DESTDIR)$(BINDIR) $(DESTDIR)$(DATADIR)/testlists \
		$(DESTDIR)$(DATADIR)/testlists/fingerprints
	install -m 0755 $(PROBE) $(DESTDIR)$(BINDIR)/wallwatch-probe
	install -m 0755 $(COLLECTOR) $(DESTDIR)$(BINDIR)/wallwatch-collector
	install -m 0644 testlists/*.csv $(DESTDIR)$(DATADIR)/testlists/
	install -m 0644 testlists/fingerprints/*.csv \
		$(DESTDIR)$(DATADIR)/testlists/fingerprints/
	install -d $(DESTDIR)$(MANDIR)/man1 $(DESTDIR)$(UNITDIR) \
		$(DESTDIR)$(DOCDIR)/docs $(DESTDIR)$(DOCDIR)/collector \
		$(DESTDIR)$(SYSCONFDIR)/wallwatch
	for f in $(MAN_PAGES); do \
		sed $(MAN_SED) $$f >$(DESTDIR)$(MANDIR)/man1/$${f##*/} && \
		chmod 0644 $(DESTDIR)$(MANDIR)/man1/$${f##*/} || exit 1; \
	done
	for f in $(UNITS); do \
		sed $(INSTALL_SED) $$f >$(DESTDIR)$(UNITDIR)/$${f##*/} && \
		chmod 0644 $(DESTDIR)$(UNITDIR)/$${f##*/} || exit 1; \
	done
	install -m 0644 README.md $(DESTDIR)$(DOCDIR)/
	install -m 0644 docs/*.md $(DESTDIR)$(DOCDIR)/docs/
	install -m 0644 collector/README.md $(DESTDIR)$(DOCDIR)/collector/
	sed $(INSTALL_SED) dist/probe.conf >$(DESTDIR)$(DOCDIR)/probe.conf.example
	chmod 0644 $(DESTDIR)$(DOCDIR)/probe.conf.example
	@if [ -e $(PROBE_CONF) ]; then \
		echo "kept $(PROBE_CONF) (yours); the new example is" \
		     "$(DOCDIR)/probe.conf.example"; \
	else \
		install -m 0644 $(DESTDIR)$(DOCDIR)/probe.conf.example \
			$(PROBE_CONF) && echo "installed $(PROBE_CONF)"; \
	fi

uninstall:
	rm -f $(DESTDIR)$(BINDIR)/wallwatch-probe \
		$(DESTDIR)$(BINDIR)/wallwatch-collector
	rm -f $(addprefix $(DESTDIR)$(DATADIR)/,$(wildcard testlists/*.csv \
		testlists/fingerprints/*.csv))
	for d in $(DESTDIR)$(DATADIR)/testlists/fingerprints \
		$(DESTDIR)$(DATADIR)/testlists $(DESTDIR)$(DATADIR); do \
		[ ! -d $$d ] || rmdir --ignore-fail-on-non-empty $$d; done
	rm -f $(addprefix $(DESTDIR)$(MANDIR)/man1/,$(notdir $(MAN_PAGES))) \
		$(addprefix $(DESTDIR)$(UNITDIR)/,$(notdir $(UNITS)))
	rm -f $(DESTDIR)$(DOCDIR)/README.md $(DESTDIR)$(DOCDIR)/probe.conf.example \
		$(addprefix $(DESTDIR)$(DOCDIR)/,$(wildcard docs/*.md)) \
		$(DESTDIR)$(DOCDIR)/collector/README.md
	for d in $(DESTDIR)$(DOCDIR)/docs $(DESTDIR)$(DOCDIR)/collector \
		$(DESTDIR)$(DOCDIR); do \
		[ ! -d $$d ] || rmdir --ignore-fail-on-non-empty $$d; done
	@if [ -e $(PROBE_CONF) ]; then \
		echo "kept $(PROBE_CONF) (yours) and the services' state" \
		     "in /var/lib"; fi

clean:
	rm -rf build

FORMAT_SRC = $(wildcard engine/*/*.[ch] probe/*.[ch] collector/*.[ch] \
	     tests/*/*.[ch])
format:
	clang-format -i $(FORMAT_SRC)
format-check:
	@clang-format --dry-run --Werror $(FORMAT_SRC) && \
		echo "format-check: $(words $(FORMAT_SRC)) files clean"

layers-check:
	@sh tests/layers-check.sh

-include $(shell find $(BUILD)/obj -name '*.d' 2>/dev/null)
