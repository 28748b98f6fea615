# seqcast - replicated append-only log over UDP multicast.
# make            build build/seqcastd and build/seqcast
# make check      install missing Debian packages, build, run every test
#                 (plain, then AddressSanitizer + UBSan)
# make demo       install missing packages, build, run a 3-server cluster
# make bench      throughput / latency / memory figures
# make bench-peers  seqcast side by side with NRL's NORM (libnorm-dev)
# make install    PREFIX=/usr/local DESTDIR= (make uninstall: the same, undone)


CC      ?= cc
PREFIX  ?= /usr/local
BUILD   ?= build
# The version --version prints: git describe in a clone, else VERSION.
VERSION_STRING := $(shell git describe --always --dirty 2>/dev/null || cat VERSION)
PKGS     = inih libsodium
# CFLAGS is the user's (optimisation, sanitizers); what the build needs
# is in SC_CFLAGS, so `make CFLAGS=...` cannot drop the include path.
CFLAGS  ?= -O2 -g
SC_CFLAGS = -std=gnu11 -Wall -Wextra -Wshadow -Wstrict-prototypes \
           -Wmissing-prototypes -Iinclude -Itools $(shell pkg-config --cflags $(PKGS) 2>/dev/null) $(WERROR) \
           -DSC_VERSION_STRING='"$(VERSION_STRING)"'
# Debian's libev-dev ships no pkg-config file: fall back to -lev.
EV_LIBS := $(shell pkg-config --libs libev 2>/dev/null || echo -lev)
LIBS     = $(shell pkg-config --libs $(PKGS) 2>/dev/null) $(EV_LIBS) -lm
# libtpl only for test_wire: the codec writes and reads tpl images itself,
# and test_wire checks it against libtpl.
TESTLIBS = $(shell pkg-config --libs cmocka libtpl 2>/dev/null)

# the daemon's shell (daemon/seqcastd*.c) links only into seqcastd
SHELL_SRC = $(wildcard daemon/seqcastd*.c)
CORE_SRC = $(filter-out $(SHELL_SRC),$(wildcard daemon/*.c))
CORE_OBJ = $(CORE_SRC:%.c=$(BUILD)/%.o)
# the client: tools/client/*.c; all but main.c also link into the tests
CLIENT_SRC = $(filter-out tools/client/main.c,$(wildcard tools/client/*.c))
CLIENT_OBJ = $(CLIENT_SRC:%.c=$(BUILD)/%.o)
TESTS    = $(patsubst tests/%.c,$(BUILD)/tests/%,$(wildcard tests/test_*.c))
FUZZ     = $(patsubst tests/fuzz/fuzz_%.c,%,$(wildcard tests/fuzz/fuzz_*.c))
REPLAYS  = $(FUZZ:%=$(BUILD)/fuzz/replay_%)
FUZZ_SECONDS ?= 60
HDRS     = $(wildcard include/seqcast/*.h daemon/*.h tools/client/*.h tests/sim/*.h)

SIM_SRC  = $(wildcard tests/sim/*.c)
MUT_OBJ  = $(CORE_SRC:%.c=$(BUILD)/mut/%.o)
SEEDS    ?= 100000

all: $(BUILD)/seqcastd $(BUILD)/seqcast $(BUILD)/seqcast-noise $(BUILD)/seqcast-rawbench

$(BUILD)/%.o: %.c $(HDRS)
	@mkdir -p $(dir $@)
	$(CC) $(SC_CFLAGS) $(CFLAGS) -c -o $@ $<

# The programs that print SC_VERSION_STRING are rebuilt when it changes
# (a commit, a dirty tree): the stamp is rewritten only then.
VERSIONED = $(BUILD)/daemon/seqcastd.o $(BUILD)/tools/seqcast-noise.o \
	    $(BUILD)/tools/seqcast-rawbench.o
$(VERSIONED): $(BUILD)/version.stamp
$(BUILD)/version.stamp: FORCE
	@mkdir -p $(dir $@)
	@echo '$(VERSION_STRING)' | cmp -s - $@ || echo '$(VERSION_STRING)' >$@

$(BUILD)/libseqcast.a: $(CORE_OBJ)
	rm -f $@ && ar rcs $@ $^

$(BUILD)/libseqcast-client.a: $(CLIENT_OBJ)
	rm -f $@ && ar rcs $@ $^

$(BUILD)/seqcastd: $(SHELL_SRC:%.c=$(BUILD)/%.o) $(BUILD)/libseqcast.a
	$(CC) $(SC_CFLAGS) $(CFLAGS) -o $@ $^ $(LIBS)

# --version: main.o is rebuilt when the version string changes
$(BUILD)/tools/client/main.o: $(BUILD)/version.stamp

$(BUILD)/seqcast: $(BUILD)/tools/client/main.o $(BUILD)/libseqcast-client.a $(BUILD)/libseqcast.a
	$(CC) $(SC_CFLAGS) $(CFLAGS) -o $@ $^ $(LIBS)

$(BUILD)/seqcast-noise: $(BUILD)/tools/seqcast-noise.o $(BUILD)/libseqcast.a
	$(CC) $(SC_CFLAGS) $(CFLAGS) -o $@ $^ $(LIBS)

$(BUILD)/seqcast-rawbench: $(BUILD)/tools/seqcast-rawbench.o $(BUILD)/libseqcast.a
	$(CC) $(SC_CFLAGS) $(CFLAGS) -o $@ $^ $(LIBS)

# norm-peer: NORM (libnorm) sender / receiver for bench-peers; not in `all`,
# so that the daemon builds without libnorm.
$(BUILD)/norm-peer: tools/norm-peer.c $(BUILD)/libseqcast.a
	@mkdir -p $(dir $@)
	$(CC) $(SC_CFLAGS) $(CFLAGS) $(shell pkg-config --cflags norm 2>/dev/null) \
	    -o $@ $^ $(shell pkg-config --libs norm 2>/dev/null || echo -lnorm)

# The simulator, and the same built with the rules that can be broken on
# purpose (-DSC_MUTATIONS, a library of its own).
$(BUILD)/sim: $(SIM_SRC:%.c=$(BUILD)/%.o) $(BUILD)/libseqcast.a
	$(CC) $(SC_CFLAGS) $(CFLAGS) -o $@ $^ $(LIBS)

$(BUILD)/mut/%.o: %.c $(HDRS)
	@mkdir -p $(dir $@)
	$(CC) $(SC_CFLAGS) $(CFLAGS) -DSC_MUTATIONS -c -o $@ $<

$(BUILD)/mut/libseqcast.a: $(MUT_OBJ)
	rm -f $@ && ar rcs $@ $^

$(BUILD)/sim-mut: $(SIM_SRC:%.c=$(BUILD)/mut/%.o) $(BUILD)/mut/libseqcast.a
	$(CC) $(SC_CFLAGS) $(CFLAGS) -o $@ $^ $(LIBS)

$(BUILD)/tests/%: $(BUILD)/tests/%.o $(BUILD)/libseqcast-client.a $(BUILD)/libseqcast.a
	$(CC) $(SC_CFLAGS) $(CFLAGS) -o $@ $^ $(LIBS) $(TESTLIBS)

$(BUILD)/fuzz/replay_%: $(BUILD)/tests/fuzz/fuzz_%.o $(BUILD)/tests/fuzz/replay.o $(BUILD)/libseqcast-client.a $(BUILD)/libseqcast.a
	@mkdir -p $(dir $@)
	$(CC) $(SC_CFLAGS) $(CFLAGS) -o $@ $^ $(LIBS)

$(BUILD)/mut/tests/test_node: $(BUILD)/mut/tests/test_node.o $(BUILD)/mut/libseqcast.a
	$(CC) $(SC_CFLAGS) $(CFLAGS) -o $@ $^ $(LIBS) $(TESTLIBS)

# test_amplification.sh's attacker (sends only to 127.0.0.0/8)
$(BUILD)/tests/amp-probe: $(BUILD)/tests/e2e/amp_probe.o $(BUILD)/libseqcast.a
	$(CC) $(SC_CFLAGS) $(CFLAGS) -o $@ $^ $(LIBS)

tests: $(TESTS) $(REPLAYS) $(BUILD)/sim $(BUILD)/sim-mut $(BUILD)/mut/tests/test_node \
	$(BUILD)/tests/amp-probe

# The long simulator run: make sim SEEDS=200000 (3 servers, then as many
# seeds of 5)
sim: $(BUILD)/sim
	$(BUILD)/sim --seeds $(SEEDS) --jobs 2
	$(BUILD)/sim --seeds $(SEEDS) --servers 5 --first 1000001 --jobs 2
	$(BUILD)/sim --seeds $(SEEDS) --servers 2 --first 2000001 --jobs 2

# libFuzzer (clang): each target for FUZZ_SECONDS under ASan+UBSan, on a
# scratch copy of its corpus; a crashing input lands in the corpus folder
# (crash-*), where `make check` replays it from then on.
fuzz: deps
	@mkdir -p build-fuzz fuzz-out
	for t in $(FUZZ); do \
	    clang -g -O1 -fsanitize=fuzzer,address,undefined -Iinclude -Itools \
	        -o build-fuzz/fuzz_$$t tests/fuzz/fuzz_$$t.c $(CORE_SRC) $(CLIENT_SRC) $(LIBS) || exit 1; \
	done
	for t in $(FUZZ); do \
	    mkdir -p fuzz-out/$$t; \
	    build-fuzz/fuzz_$$t -max_total_time=$(FUZZ_SECONDS) -timeout=10 \
	        -artifact_prefix=tests/fuzz/corpus/$$t/crash- \
	        fuzz-out/$$t tests/fuzz/corpus/$$t || exit 1; \
	done

deps:
	@tools/install-deps

# Unit tests, then the end-to-end tests, then all of it again under
# ASan+UBSan in build-san/. WERROR=-Werror keeps warnings fatal here.
check: deps
	$(MAKE) lint-man
	tools/check-tree
	$(MAKE) WERROR=-Werror all tests
	tools/run-tests $(BUILD)
	$(MAKE) BUILD=build-san WERROR=-Werror CC=clang \
	    CFLAGS="-O1 -g -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=all" all tests
	SEQCAST_SANITIZED=1 tools/run-tests build-san

unit: all tests
	tools/run-tests $(BUILD) unit

demo: deps all
	tools/demo

bench: deps all
	tools/bench

bench-peers: deps all $(BUILD)/norm-peer
	tools/bench-peers

# What make install puts under $(DESTDIR)$(PREFIX), and make uninstall
# removes: the programs (seqcast-rawbench is a bench helper and stays in
# build/), the man pages, the example cluster files and the Wireshark
# dissector in share/seqcast, the systemd unit. Paths inside the pages and
# the unit follow PREFIX.
BINS     = seqcastd seqcast seqcast-noise
MAN1     = docs/man/seqcast.1
MAN5     = docs/man/seqcast.conf.5
MAN8     = docs/man/seqcastd.8
MANPAGES = $(MAN1) $(MAN5) $(MAN8)
SHARED   = $(wildcard etc/*.conf) tools/seqcast.lua
BINDIR   = $(DESTDIR)$(PREFIX)/bin
MANDIR   = $(DESTDIR)$(PREFIX)/share/man
DATADIR  = $(DESTDIR)$(PREFIX)/share/seqcast
UNITDIR  = $(DESTDIR)$(PREFIX)/lib/systemd/system

install: all
	install -d $(BINDIR) $(DATADIR) $(UNITDIR) $(MANDIR)/man1 $(MANDIR)/man5 $(MANDIR)/man8
	install -m 755 $(BINS:%=$(BUILD)/%) $(BINDIR)/
	install -m 644 $(SHARED) $(DATADIR)/
	for m in $(MANPAGES); do \
	    sed 's|/usr/local/|$(PREFIX)/|g' $$m >$(MANDIR)/man$${m##*.}/$${m##*/} || exit 1; \
	done
	sed 's|/usr/local/bin/|$(PREFIX)/bin/|g' etc/seqcast@.service >$(UNITDIR)/seqcast@.service

uninstall:
	rm -f $(BINS:%=$(BINDIR)/%) $(addprefix $(DATADIR)/,$(notdir $(SHARED))) \
	    $(MANDIR)/man1/$(notdir $(MAN1)) $(MANDIR)/man5/$(notdir $(MAN5)) \
	    $(MANDIR)/man8/$(notdir $(MAN8)) $(UNITDIR)/seqcast@.service
	-rmdir $(DATADIR)
	@# In a staging tree (DESTDIR) the folders are install's too; on the
	@# system they are shared (bin, share/man/man1...) and stay.
	@if [ -n "$(DESTDIR)" ]; then \
	    for d in $(MANDIR)/man1 $(MANDIR)/man5 $(MANDIR)/man8 $(MANDIR) \
	        $(UNITDIR) $(DESTDIR)$(PREFIX)/lib/systemd \
	        $(DESTDIR)$(PREFIX)/lib $(DESTDIR)$(PREFIX)/share $(BINDIR) \
	        $(DESTDIR)$(PREFIX); do \
	        rmdir $$d 2>/dev/null; \
	    done; true; \
	fi

# mandoc -T lint on the pages: nothing at WARNING or above, and no STYLE
# message except "referenced manual not found" (seqcast(1) and the others
# are found only once installed, and mandoc looks only in the system's
# manual database).
lint-man:
	mandoc -T lint -W warning $(MANPAGES)
	@out=$$(mandoc -T lint -W style $(MANPAGES) 2>&1 | grep -v 'referenced manual not found'); \
	    [ -z "$$out" ] || { echo "$$out"; exit 1; }

clean:
	rm -rf build build-san build-fuzz fuzz-out

.PHONY: all tests deps check unit demo bench bench-peers install uninstall lint-man clean fuzz sim FORCE
.SECONDARY:
