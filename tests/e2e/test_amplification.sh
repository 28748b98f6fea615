# No reflector (issue 14): every kind of request a real seqcast sends, sent
# again from a socket that never spoke to the server, gets back at most 3
# times its own bytes, keyed and unkeyed.
#
# Three servers; dumpcap captures lo while real clients run: add (values,
# --file, --count), log (whole, --from/--to, --json), log --follow (a few
# long polls, then Ctrl-C), stats, stats --prometheus and wait. Every
# client request in the capture (sender "client", type ADD, LOG_REQ or
# STATS_REQ: first requests without a cookie, later ones with the cookie
# their client got, long polls, the MAC trailer when keyed) goes to
# build/tests/amp-probe, which sends each from a fresh socket (a new
# address: its cookie is someone else's, a keyed one is a replay inside
# the MAC's freshness window) and counts what comes back in 500 ms. Each
# must be <= 3x (a stats request gets its COOKIE alone: 1x). Prints, per kind of request, how many, the bytes both ways
# and the worst ratio.
#
# To see it fail: in daemon/node_client.c let node_client_may_send return
# 1 and node_client_room SIZE_MAX (what the rule amp-unbounded does): a
# stats request came back at 36x, a log request at up to 153x. With only
# the check on the way out gone (pages still sized to the budget), up to
# 4.4x.
#
# Needs its own network namespace (root: lib.sh's unshare) to capture lo
# without seeing anyone else's traffic, and dumpcap and tshark.

. tests/e2e/lib.sh

skip() {
	echo "SKIP: $*"
	exit 77
}

[ -n "$SEQCAST_IN_NETNS" ] ||
    skip "needs root: it captures lo in a network namespace of its own"
command -v dumpcap >/dev/null 2>&1 && command -v tshark >/dev/null 2>&1 ||
    skip "no dumpcap/tshark (tools/install-deps installs tshark)"
PROBE=$BUILD/tests/amp-probe
[ -x "$PROBE" ] || fail "no $PROBE (make tests)"

CAP_PID=""
capture_start() {
	dumpcap -q -i lo -f "udp and dst portrange $PORT0-$((PORT0 + 2))" \
	    -w "$1" 2>"$T/dumpcap.err" &
	CAP_PID=$!
	PIDS="$PIDS $CAP_PID"
	# dumpcap writes the file's header once it captures
	i=0
	while [ ! -s "$1" ] && [ $i -lt 50 ]; do sleep 0.1; i=$((i + 1)); done
	[ -s "$1" ] || fail "dumpcap did not start: $(cat "$T/dumpcap.err")"
}

capture_stop() {
	sleep 0.3
	kill -INT "$CAP_PID"
	wait "$CAP_PID" 2>/dev/null
}

# clients MODE: every command and option that sends something different
clients() {
	S1=$(addr 1)
	S2=$(addr 2)
	$SEQCAST $KEYOPT add --server "$S1" one two three >/dev/null || fail "$1: add"
	printf 'from\na\nfile\n' >"$T/values"
	$SEQCAST $KEYOPT add --server "$(addr 0)" --file "$T/values" >/dev/null ||
	    fail "$1: add --file"
	$SEQCAST $KEYOPT add --server "$S2" --count 3000 --quiet || fail "$1: add --count"
	$SEQCAST $KEYOPT wait --server "$S1" --applied 3006 --timeout 10 || fail "$1: wait"
	$SEQCAST $KEYOPT log --server "$S1" >"$T/log.$1" || fail "$1: log"
	[ "$(wc -l <"$T/log.$1")" -eq 3006 ] || fail "$1: log has $(wc -l <"$T/log.$1") lines"
	$SEQCAST $KEYOPT log --server "$S2" --from 100 --to 120 >/dev/null || fail "$1: log --from"
	$SEQCAST $KEYOPT log --server "$(addr 0)" --json --from 3000 >/dev/null || fail "$1: log --json"
	$SEQCAST $KEYOPT stats --server "$S2" >/dev/null || fail "$1: stats"
	$SEQCAST $KEYOPT stats --server "$S1" --prometheus >/dev/null || fail "$1: stats --prometheus"
	$SEQCAST $KEYOPT log --server "$S2" --from 3000 --follow >"$T/follow.$1" &
	f=$!
	sleep 1.5
	$SEQCAST $KEYOPT add --server "$S1" late >/dev/null || fail "$1: add late"
	sleep 1.5
	kill -INT $f
	wait $f || fail "$1: log --follow did not exit 0 on SIGINT"
	[ "$(tail -1 "$T/follow.$1" | cut -f2)" = late ] || fail "$1: --follow missed an entry"
}

# requests CAPTURE: "PORT HEX" for each client request in it (sender
# ffffffff at offset 12, type add 01, log_req 0b or stats_req 0d at 5)
requests() {
	tshark -r "$1" -T fields -e udp.dstport -e udp.payload 2>/dev/null |
	    awk 'substr($2, 25, 8) == "ffffffff" &&
	        (substr($2, 11, 2) == "01" || substr($2, 11, 2) == "0b" ||
	        substr($2, 11, 2) == "0d") { print $1, $2 }'
}

run() {
	mode=$1
	shift
	write_conf 3 "$@"
	start_cluster
	capture_start "$T/cap.$mode.pcapng"
	clients "$mode"
	capture_stop
	requests "$T/cap.$mode.pcapng" >"$T/requests.$mode"
	n=$(wc -l <"$T/requests.$mode")
	[ "$n" -gt 20 ] || fail "$mode: only $n client requests captured"
	echo "  $mode: $n requests from real clients, each sent again from a new address:"
	"$PROBE" --wait-ms 500 <"$T/requests.$mode" >"$T/probe.$mode"
	rc=$?
	sed 's/^/    /' "$T/probe.$mode"
	[ $rc -eq 0 ] || fail "$mode: a reply over 3x its request"
	for k in add add+cookie log_req log_req+cookie log_req+cookie+wait \
	    stats_req stats_req+cookie; do
		suffix=""
		[ "$mode" = keyed ] && suffix=" (keyed)"
		grep -q "^$k$suffix  *[0-9]" "$T/probe.$mode" ||
		    fail "$mode: no '$k' request was captured"
	done
	got=0
	for i in 0 1 2; do
		c=$("$SEQCAST" $KEYOPT stats --server "$(addr $i)" | json_num amp_capped)
		s=$("$SEQCAST" $KEYOPT stats --server "$(addr $i)" | json_num amp_shrunk)
		got=$((got + c + s))
	done
	[ "$got" -gt 0 ] || fail "$mode: the servers count nothing capped or shrunk"
	echo "  $mode: servers capped or shrank $got replies"
	for p in $PIDS; do [ "$p" = "$CAP_PID" ] || kill "$p"; done
	for p in $PIDS; do wait "$p" 2>/dev/null; done
	PIDS=""
	rm -f "$T"/server*.log
}

KEYOPT=""
run unkeyed
"$SEQCASTD" --gen-key "$T/key" || fail "seqcastd --gen-key"
KEYOPT="--key-file $T/key"
run keyed "key_file = $T/key"
echo "  every reply to an address that never spoke to the server within 3x"
