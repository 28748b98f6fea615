# seqcast - replicated append-only log over UDP multicast.
# make            build build/seqcastd and build/seqcast
# make check      install missing Debian packages, build, run every test
#                 (plain, then AddressSanitizer + UBSan)
# make demo       install missing packages, build, run a 3-server cluster
# make bench      throughput / latency / memory figures
# make bench-peers  seqcast side by side with NRL's NORM (libnorm-dev)
# make install    PREFIX=/usr/local DESTDIR=

CC      ?= cc
PREFIX  ?= /usr/local
BUILD   ?= build
PKGS     = libtpl inih libsodium
# CFLAGS is the user's (optimisation, sanitizers); what the build needs
# is in SC_CFLAGS, so `make CFLAGS=...` cannot drop the include path.
CFLAGS  ?= -O2 -g
SC_CFLAGS = -std=gnu11 -Wall -Wextra -Wshadow -Wstrict-prototypes \
           -Wmissing-prototypes -Iinclude $(shell pkg-config --cflags $(PKGS) 2>/dev/null) $(WERROR)
# Debian's libev-dev ships no pkg-config file: fall back to -lev.
EV_LIBS := $(shell pkg-config --libs libev 2>/dev/null || echo -lev)
LIBS     = $(shell pkg-config --libs $(PKGS) 2>/dev/null) $(EV_LIBS) -lm
TESTLIBS = $(shell pkg-config --libs cmocka 2>/dev/null)

CORE_SRC = $(filter-out daemon/seqcastd.c,$(wildcard daemon/*.c))
CORE_OBJ = $(CORE_SRC:%.c=$(BUILD)/%.o)
TESTS    = $(patsubst tests/%.c,$(BUILD)/tests/%,$(wildcard tests/test_*.c))
FUZZ     = $(patsubst tests/fuzz/fuzz_%.c,%,$(wildcard tests/fuzz/fuzz_*.c))
REPLAYS  = $(FUZZ:%=$(BUILD)/fuzz/replay_%)
FUZZ_SECONDS ?= 60
HDRS     = $(wildcard include/seqcast/*.h)

all: $(BUILD)/seqcastd $(BUILD)/seqcast $(BUILD)/seqcast-noise $(BUILD)/seqcast-rawbench

$(BUILD)/%.o: %.c $(HDRS)
	@mkdir -p $(dir $@)
	$(CC) $(SC_CFLAGS) $(CFLAGS) -c -o $@ $<

$(BUILD)/libseqcast.a: $(CORE_OBJ)
	rm -f $@ && ar rcs $@ $^

$(BUILD)/seqcastd: $(BUILD)/daemon/seqcastd.o $(BUILD)/libseqcast.a
	$(CC) $(SC_CFLAGS) $(CFLAGS) -o $@ $^ $(LIBS)

$(BUILD)/seqcast: $(BUILD)/tools/seqcast.o $(BUILD)/libseqcast.a
	$(CC) $(SC_CFLAGS) $(CFLAGS) -o $@ $^ $(LIBS)

$(BUILD)/seqcast-noise: $(BUILD)/tools/seqcast-noise.o $(BUILD)/libseqcast.a
	$(CC) $(SC_CFLAGS) $(CFLAGS) -o $@ $^ $(LIBS)

$(BUILD)/seqcast-rawbench: $(BUILD)/tools/seqcast-rawbench.o $(BUILD)/libseqcast.a
	$(CC) $(SC_CFLAGS) $(CFLAGS) -o $@ $^ $(LIBS)

# norm-peer: NORM (libnorm) sender / receiver for bench-peers; not in `all`,
# so that the daemon builds without libnorm.
$(BUILD)/norm-peer: tools/norm-peer.c
	@mkdir -p $(dir $@)
	$(CC) $(SC_CFLAGS) $(CFLAGS) $(shell pkg-config --cflags norm 2>/dev/null) \
	    -o $@ $< $(shell pkg-config --libs norm 2>/dev/null || echo -lnorm)

$(BUILD)/tests/%: $(BUILD)/tests/%.o $(BUILD)/libseqcast.a
	$(CC) $(SC_CFLAGS) $(CFLAGS) -o $@ $^ $(LIBS) $(TESTLIBS)

$(BUILD)/fuzz/replay_%: $(BUILD)/tests/fuzz/fuzz_%.o $(BUILD)/tests/fuzz/replay.o $(BUILD)/libseqcast.a
	@mkdir -p $(dir $@)
	$(CC) $(SC_CFLAGS) $(CFLAGS) -o $@ $^ $(LIBS)

tests: $(TESTS) $(REPLAYS)

# libFuzzer (clang): each target for FUZZ_SECONDS under ASan+UBSan, on a
# scratch copy of its corpus; a crashing input lands in the corpus folder
# (crash-*), where `make check` replays it from then on.
fuzz: deps
	@mkdir -p build-fuzz fuzz-out
	for t in $(FUZZ); do \
	    clang -g -O1 -fsanitize=fuzzer,address,undefined -Iinclude \
	        -o build-fuzz/fuzz_$$t tests/fuzz/fuzz_$$t.c $(CORE_SRC) $(LIBS) || exit 1; \
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

install: all
	install -d $(DESTDIR)$(PREFIX)/bin $(DESTDIR)$(PREFIX)/share/seqcast
	install -m 755 $(BUILD)/seqcastd $(BUILD)/seqcast $(DESTDIR)$(PREFIX)/bin/
	install -m 644 etc/*.conf $(DESTDIR)$(PREFIX)/share/seqcast/
	install -d $(DESTDIR)$(PREFIX)/lib/systemd/system
	sed 's|/usr/local/bin/|$(PREFIX)/bin/|g' etc/seqcast@.service >$(DESTDIR)$(PREFIX)/lib/systemd/system/seqcast@.service

clean:
	rm -rf build build-san build-fuzz fuzz-out

.PHONY: all tests deps check unit demo bench bench-peers install clean fuzz
.SECONDARY:
