# A wall-clock step on a running server (issue 17, point 4). Three
# servers with a shared key (key_file), 1% injected receive loss on every
# server (so that NACKs, retransmissions, re-forwards and client resends
# run all along) and failover_ms = 1000 (so that a busy shared machine
# does not set off a failover on its own: a step that stopped a timer
# would still set one off within the phase). One server runs under
# libfaketime with its wall clock read from a file at every call
# (FAKETIME_TIMESTAMP_FILE, FAKETIME_NO_CACHE=1) and its monotonic clock
# left alone (FAKETIME_DONT_FAKE_MONOTONIC=1): the protocol's timers are
# monotonic, wall time only feeds authentication counters. Run 1 fakes the
# coordinator's clock, run 2 a member's. Each run has three phases of
# PHASE seconds under load, two clients at RATE entries/s through the two
# servers whose clock is not faked: "base" (no step), "back" (0.5 s in,
# the clock steps back one hour) and "forward" (0.5 s in, it steps forward
# two hours, to one hour ahead). Asserts:
# - in every phase: both clients exit 0, acked for every entry; view,
#   coordinator and view_changes unchanged on every server (no failover);
# - in each stepped phase, against base: each client's p99 ACK latency at
#   most max(4 x base p99, 250 ms) and its slowest ACK at most 1 s (a
#   stopped timer leaves requests waiting for a failover or for ever);
#   the coordinator's heartbeats at >= 80% of base's count; NACKs and
#   re-forwards happen (> 0);
# - with the key, no datagram is refused: on every server, rejected and
#   the rejected_by counters auth_missing, auth_bad, auth_replay,
#   auth_unexpected and unexpected do not grow during any phase (base
#   included, so that a refusal that has nothing to do with a step shows
#   as such). Nothing but the servers and this test's clients sends to
#   them, and the clients' clocks are not faked. Judged after all phases,
#   so that every phase's line is printed first;
# - at the end of each run: the three logs identical, ids 1..N contiguous.
# Then a member restarted with its clock an hour behind (see
# restart_behind): its peers challenge it and take it back.
# The faked daemon's /proc/PID/maps must show libfaketime, and the offset
# file is checked to move a faked `date` by -1 h and +1 h. 25-45 s here.
# Skips (exit 77) only without libfaketime.
#
# Seen to fail: with the monotonic clock faked as well (remove
# FAKETIME_DONT_FAKE_MONOTONIC=1 from FAKE_ENV below, as if the daemon's
# timers ran on the wall clock), the coordinator stops at the step back:
# the members log "no word from coordinator 0 for 1000 ms: asking for view
# 1" and the test ends "FAIL: no stats from server 0".
. tests/e2e/lib.sh

RATE=${RATE:-3000}   # per client
PHASE=${PHASE:-3}    # seconds per phase
STEP_AT=0.5          # seconds into a phase

FAKELIB=""
for f in /usr/lib/*/faketime/libfaketime.so.1 /usr/lib/faketime/libfaketime.so.1 \
    /usr/local/lib/faketime/libfaketime.so.1; do
	[ -f "$f" ] && { FAKELIB=$f; break; }
done
if [ -z "$FAKELIB" ]; then
	echo "SKIP: no libfaketime.so.1 (Debian package libfaketime, pulled in by faketime; tools/install-deps installs it)"
	exit 77
fi
RC=$T/faketime.rc

# set_clock OFFSET: the faked wall clock becomes real time + OFFSET
# ("+0", "-1h", "+1h"); written whole and renamed, so a reader never sees
# half a file
set_clock() {
	echo "$1" >"$RC.new" && mv "$RC.new" "$RC"
}

# The faked process's environment: its wall clock is real time plus the
# offset in $RC, read at every call; CLOCK_MONOTONIC is left alone.
FAKE_ENV="LD_PRELOAD=$FAKELIB FAKETIME_TIMESTAMP_FILE=$RC FAKETIME_NO_CACHE=1 FAKETIME_DONT_FAKE_MONOTONIC=1"
faked() { env $FAKE_ENV "$@"; }

# check_offset SECONDS: a faked date differs from the real one by SECONDS (+-5)
check_offset() {
	d=$(($(faked date +%s) - $(date +%s)))
	[ $((d - $1)) -le 5 ] && [ $(($1 - d)) -le 5 ] ||
	    fail "libfaketime's clock is off by $d s, not $1 s: the offset file is not read"
}

# The faked server's program. libfaketime cannot be preloaded into an
# AddressSanitizer binary (both wrap the clock calls at start-up: the
# daemon hangs before it listens), so under make check's sanitized run
# the faked server is the plain build's seqcastd, the two others the
# sanitized ones.
FAKED_SEQCASTD=$SEQCASTD
if [ -n "$SEQCAST_SANITIZED" ]; then
	FAKED_SEQCASTD=${PLAIN_BUILD:-build}/seqcastd
	[ -x "$FAKED_SEQCASTD" ] ||
	    fail "sanitized run: the faked server needs the plain build's $FAKED_SEQCASTD (make all first)"
	echo "  (sanitized run: the faked server runs $FAKED_SEQCASTD, libfaketime and ASan do not mix)"
fi

# start_faked I: server I with the faked wall clock
start_faked() {
	env $FAKE_ENV "$FAKED_SEQCASTD" --config "$T/cluster.conf" --id "$1" \
	    2>>"$T/server$1.log" &
	eval "PID$1=$!"
	PIDS="$PIDS $!"
}

# snap I FILE: the counters of server I this test compares, as
# "name=value ..." in FILE
snap() {
	s=$("$SEQCAST" $KEYOPT stats --timeout 10 --server "$(addr "$1")") ||
	    fail "no stats from server $1"
	for k in view coordinator view_changes heartbeats_sent nacks_sent \
	    reforwards retransmissions rejected auth_missing auth_bad auth_replay \
	    auth_unexpected unexpected applied; do
		printf '%s=%s ' "$k" "$(echo "$s" | json_num $k)"
	done >"$2"
}
val() { echo "$1" | tr ' ' '\n' | sed -n "s/^$2=//p"; }

# lat FILE KEY: p50/p99/max (us) from a client's --latency line
lat() { sed -n "s/.*latency_us:.* $2=\([0-9]*\).*/\1/p" "$1" | head -1; }

# phase NAME STEP: PHASE seconds of load through servers $LOAD_A and
# $LOAD_B, the clock set to STEP (or left, for "-") STEP_AT seconds in;
# leaves the counters before and after in $T/NAME.before.I, .after.I
phase() {
	name=$1
	for i in 0 1 2; do snap $i "$T/$name.before.$i"; done
	n=$((RATE * PHASE))
	for c in a b; do
		case $c in a) srv=$LOAD_A ;; b) srv=$LOAD_B ;; esac
		"$SEQCAST" $KEYOPT add --server "$(addr "$srv")" --count "$n" --rate "$RATE" \
		    --prefix "$RUN-$name-$c" --timeout 20 --quiet --latency \
		    2>"$T/$name.lat.$c" &
		eval "CL_$c=$!"
	done
	sleep "$STEP_AT"
	[ "$2" = - ] || set_clock "$2"
	wait "$CL_a" || fail "$RUN, phase $name: client a failed: $(cat "$T/$name.lat.a")"
	wait "$CL_b" || fail "$RUN, phase $name: client b failed: $(cat "$T/$name.lat.b")"
	for i in 0 1 2; do snap $i "$T/$name.after.$i"; done
	ADDED=$((ADDED + 2 * n))
	for i in 0 1 2; do
		for k in view coordinator view_changes; do
			b=$(val "$(cat "$T/$name.before.$i")" $k)
			a=$(val "$(cat "$T/$name.after.$i")" $k)
			[ "$a" = "$b" ] || fail "$RUN, phase $name: server $i $k went from $b to $a"
		done
	done
	# Refusals are judged at the end, so that the other checks of every
	# phase still run and print.
	REFUSED_NOW=""
	for i in 0 1 2; do
		for k in auth_missing auth_bad auth_replay auth_unexpected unexpected rejected; do
			d=$(delta "$name" $i $k)
			[ "$d" = 0 ] || REFUSED_NOW="$REFUSED_NOW server $i $k +$d;"
		done
	done
	[ -z "$REFUSED_NOW" ] || REFUSED="$REFUSED
    $RUN, phase $name:$REFUSED_NOW"
}

# delta PHASE I KEY: how much counter KEY of server I grew in PHASE
delta() {
	echo $(($(val "$(cat "$T/$1.after.$2")" "$3") - $(val "$(cat "$T/$1.before.$2")" "$3")))
}

# judge NAME: the assertions above for a stepped phase, against "base"
judge() {
	name=$1
	for c in a b; do
		p99=$(lat "$T/$name.lat.$c" p99)
		max=$(lat "$T/$name.lat.$c" max)
		b99=$(lat "$T/base.lat.$c" p99)
		bmax=$(lat "$T/base.lat.$c" max)
		[ -n "$p99" ] && [ -n "$b99" ] || fail "$RUN, phase $name: no latency line from client $c"
		lim99=$((4 * b99)); [ $lim99 -ge 250000 ] || lim99=250000
		[ "$p99" -le $lim99 ] ||
		    fail "$RUN, phase $name: client $c p99 ACK latency $p99 us, over $lim99 us (base $b99 us)"
		[ "$max" -le 1000000 ] ||
		    fail "$RUN, phase $name: client $c slowest ACK $max us, over 1 s (base $bmax us)"
	done
	hb=$(delta "$name" "$COORDID" heartbeats_sent)
	hb0=$(delta base "$COORDID" heartbeats_sent)
	[ $((hb * 10)) -ge $((hb0 * 8)) ] ||
	    fail "$RUN, phase $name: the coordinator sent $hb heartbeats, base $hb0"
	nk=0; rf=0
	for i in 0 1 2; do
		nk=$((nk + $(delta "$name" $i nacks_sent)))
		rf=$((rf + $(delta "$name" $i reforwards)))
	done
	[ $nk -gt 0 ] || fail "$RUN, phase $name: no NACK at all (base: $NK0): the loss did not work"
	[ $rf -gt 0 ] || fail "$RUN, phase $name: no re-forward at all (base: $RF0)"
	summary "$name"
}

# summary NAME: one line on the phase
summary() {
	echo "  $RUN, $1: ACK us p50/p99/max a $(lat "$T/$1.lat.a" p50)/$(lat "$T/$1.lat.a" p99)/$(lat "$T/$1.lat.a" max)," \
	    "b $(lat "$T/$1.lat.b" p50)/$(lat "$T/$1.lat.b" p99)/$(lat "$T/$1.lat.b" max);" \
	    "heartbeats $(delta "$1" "$COORDID" heartbeats_sent), NACKs $(($(delta "$1" 0 nacks_sent) + $(delta "$1" 1 nacks_sent) + $(delta "$1" 2 nacks_sent))),"\
	    "re-forwards $(($(delta "$1" 0 reforwards) + $(delta "$1" 1 reforwards) + $(delta "$1" 2 reforwards)));" \
	    "refused:${REFUSED_NOW:- none}"
}

# run FAKED: one run with server FAKED's clock stepped
run() {
	FAKEDID=$1
	for p in $PIDS; do kill "$p" 2>/dev/null; done
	for p in $PIDS; do wait "$p" 2>/dev/null; done
	PIDS=""
	rm -f "$T"/server*.log
	set_clock "+0"
	write_conf 3 "key_file = $T/key" "fault_in_drop = 1%" "failover_ms = 1000"
	for i in 0 1 2; do
		if [ $i = "$FAKEDID" ]; then start_faked $i; else start_server $i; fi
	done
	for i in 0 1 2; do
		"$SEQCAST" $KEYOPT wait --server "$(addr $i)" --applied 0 --timeout 10 ||
		    fail "server $i did not come up"
	done
	# The cluster's first view has started on every server.
	for t in $(seq 100); do
		started=0
		for i in 0 1 2; do
			[ "$(stat $i view_changes)" -ge 1 ] && started=$((started + 1))
		done
		[ $started = 3 ] && break
		sleep 0.05
	done
	[ $started = 3 ] || fail "the first view did not start on every server within 5 s"
	grep -q libfaketime "/proc/$(eval echo \$PID$FAKEDID)/maps" ||
	    fail "server $FAKEDID runs without libfaketime"
	set -- $(for i in 0 1 2; do [ $i = "$FAKEDID" ] || echo $i; done)
	LOAD_A=$1 LOAD_B=$2
	ADDED=0
	phase base -
	NK0=$(($(delta base 0 nacks_sent) + $(delta base 1 nacks_sent) + $(delta base 2 nacks_sent)))
	RF0=$(($(delta base 0 reforwards) + $(delta base 1 reforwards) + $(delta base 2 reforwards)))
	summary base
	phase back -1h
	check_offset -3600
	judge back
	phase forward +1h
	check_offset 3600
	judge forward
	wait_all "$ADDED" 30
	check_logs "$ADDED"
}

# After run 2: member 1 restarted (no data_dir: empty) with its clock an
# hour behind the one it ran with, so its counters start below the window
# its peers keep for it. They refuse its datagrams as stale, challenge it,
# and take it again once it answers: it must catch up with 1,000 entries
# added meanwhile through server 0. Then its clock is corrected (as NTP
# would) and clients with right clocks are taken by it again (the logs
# are read through it).
restart_behind() {
	kill "$PID1"
	wait "$PID1" 2>/dev/null
	set_clock "-1h"
	start_faked 1
	"$SEQCAST" $KEYOPT add --quiet --server "$(addr 0)" --count 1000 \
	    --prefix behind --timeout 30 || fail "adds while server 1 restarts behind"
	ADDED=$((ADDED + 1000))
	for t in $(seq 200); do
		ans=$(($(stat 0 auth_challenges_answered) + $(stat 2 auth_challenges_answered)))
		[ "$ans" -ge 2 ] && break
		sleep 0.05
	done
	[ "$ans" -ge 2 ] || fail "servers 0 and 2 did not both take server 1 back (challenges answered: $ans)"
	set_clock "+0"
	wait_all "$ADDED" 30
	check_logs "$ADDED"
	echo "  member 1 restarted an hour behind: refused as stale $(($(stat 0 auth_stale) + $(stat 2 auth_stale))) times, challenged, taken back by both peers; caught up to $ADDED entries"
}

"$SEQCASTD" --gen-key "$T/key" >/dev/null || fail "seqcastd --gen-key failed"
COORDID=0
REFUSED=""
KEYOPT="--key-file $T/key"
RUN="run 1 (coordinator 0 faked)"
run 0
RUN="run 2 (member 1 faked)"
run 1
restart_behind
[ -z "$REFUSED" ] ||
    fail "servers refused datagrams (every sender was a server or an unfaked client):$REFUSED"
