# Failover with real daemons (issue 13, point 2). Asserts:
#
# 1. Three servers, each with a data_dir and fsync = each; two clients add
#    RATE entries/s each (about 16,000/s together), one through each
#    member, both given every server (so they can move). kill -9 of the
#    coordinator mid-load (whoever coordinates then: on a busy machine a
#    failover without a crash can come first; the view at the kill is
#    printed); then:
#    - a new entry added through a member after the kill is acked (the
#      time from the kill to its ACK is printed);
#    - both survivors end in one new view (same view, same coordinator,
#      normal in it: normal_view = view), the coordinator one of them;
#    - every client exits 0;
#    - each survivor's log is exactly the acked entries: every "ID<TAB>VALUE"
#      a client printed is there once with that id, and nothing else
#      (no entry twice, none unacked); ids 1..N contiguous; the survivors'
#      logs and digests identical.
#    The old coordinator, restarted with its data_dir, rejoins as a member
#    of the new view (stats: view, coordinator, role, normal_view) and its
#    log becomes identical; 1,000 entries added through it are acked and
#    reach all three logs.
# 2. Five servers, same settings: kill -9 the coordinator mid-load, wait
#    until the four survivors are in a new view, then kill -9 that view's
#    coordinator mid-load too; the same assertions on the three survivors;
#    then both restarted rejoin as members of the latest view and all five
#    logs are identical.
# Prints the failover times (kill -9 to the ACK of a new entry added
# after it, which must come within FAILOVER_BOUND_MS, 5 s by default: a
# loose bound against a hang, not the 500 ms target that make bench
# judges; and each new coordinator's own last_failover_us), the views and
# the entries. 14-20 s here.
#
# Seen to fail (each a temporary edit of this file): without the kill -9
# of the coordinator, "servers 1 2 not in one new view above 0 within
# 10 s"; with one acked id changed in a client's output before the
# check, "server 1: 1 acked entries are not in the log with their acked
# id: 999999:m1-100"; with client m1 given only the coordinator's
# address, "client m1 failed: seqcast: server 127.0.0.1:4300 unreachable
# (connection refused) for 20 s (12723 of 40000 entries acknowledged)".
. tests/e2e/lib.sh
. tests/e2e/views_lib.sh

RATE=${RATE:-8000}            # per client; two clients
COUNT=${COUNT:-40000}         # per client: 5 s at RATE
KILL_AFTER=${KILL_AFTER:-1.5} # seconds into the load
FAILOVER_BOUND_MS=${FAILOVER_BOUND_MS:-5000}

# sinfo I: "view coordinator normal_view role applied" of server I, or
# nothing if it does not answer
sinfo() {
	s=$("$SEQCAST" stats --timeout 2 --server "$(addr "$1")" 2>/dev/null) || return 1
	echo "$s" | view_line
}
view_who() { echo "servers $*"; }

# crash I: kill -9 server I (and forget its pid)
crash() {
	p=$(eval echo "\$PID$1")
	kill -9 "$p"
	wait "$p" 2>/dev/null
	PIDS=$(echo "$PIDS" | tr ' ' '\n' | grep -vx "$p" | tr '\n' ' ')
}

# stop_all: SIGTERM every server still running (they log their digest)
stop_all() {
	for p in $PIDS; do kill "$p" 2>/dev/null; done
	for p in $PIDS; do wait "$p" 2>/dev/null; done
	PIDS=""
}

# servers_but I...: every server except those named, comma-separated
servers_but() {
	out=""
	i=0
	while [ $i -lt "$NSERVERS" ]; do
		case " $* " in *" $i "*) ;; *) out="$out${out:+,}$(addr $i)" ;; esac
		i=$((i + 1))
	done
	echo "$out"
}

# load NAME FIRST: a client adding COUNT entries at RATE, first through
# server FIRST, given every server (FIRST first) to move to
load() {
	"$SEQCAST" add --server "$(addr "$2")" --server "$(servers_but "$2")" \
	    --count "$COUNT" --rate "$RATE" --prefix "$1" --timeout 20 \
	    --stats-line >"$T/acked.$1" 2>"$T/client.$1" &
	eval "CL_$1=$!"
}

# finish NAME: the client exits 0 having been acked for all COUNT entries
finish() {
	wait "$(eval echo \$CL_$1)" || fail "client $1 failed: $(cat "$T/client.$1")"
	n=$(wc -l <"$T/acked.$1")
	[ "$n" -eq "$COUNT" ] || fail "client $1 was acked for $n entries, not $COUNT"
	echo "  client $1: $(sed -n 's/.*acked=\([0-9]*\) resent=\([0-9]*\).*seconds=\([0-9.]*\).*switches=\([0-9]*\).*/\1 acked, \2 resent, \3 s, \4 server switches/p' "$T/client.$1")"
}

# kill_coordinator ASK SERVER...: kill -9 the coordinator of the view
# that server ASK is in (whoever it is: a busy machine can have set off a
# failover before; the view at the kill is printed), then add one new
# entry through the first of SERVERs still up, given them all. Sets KILLED
# and KVIEW; prints the time from the kill to the new entry's ACK.
kill_coordinator() {
	read -r KVIEW KILLED nv role a <<EOF
$(sinfo "$1")
EOF
	[ -n "$KILLED" ] || fail "no stats from server $1"
	role=$(sinfo "$KILLED" | cut -d' ' -f4)
	[ "$role" = coordinator ] ||
	    fail "server $KILLED, the coordinator of view $KVIEW for server $1, says it is '$role'"
	shift
	via=""
	for i in "$@"; do [ "$i" = "$KILLED" ] || via="$via${via:+,}$(addr "$i")"; done
	t0=$(now_ms)
	crash "$KILLED"
	"$SEQCAST" add --server "$via" --timeout 10 "probe-after-killing-$KILLED" \
	    >"$T/acked.probe$KILLED" || fail "no ACK for a new entry after killing coordinator $KILLED"
	took=$(($(now_ms) - t0))
	echo "  kill -9 of coordinator $KILLED (view $KVIEW) to the ACK of a new entry (through ${via%%,*}): $took ms"
	[ "$took" -le "$FAILOVER_BOUND_MS" ] ||
	    fail "the first ACK after the kill took $took ms (bound $FAILOVER_BOUND_MS ms)"
}

# others I...: the servers 0..NSERVERS-1 but those named
others() {
	for i in $(servers_arg); do
		case " $* " in *" $i "*) ;; *) echo "$i" ;; esac
	done | tr '\n' ' '
}

# check_acked SERVER NAME...: the server's log ($T/logSERVER, from
# check_logs) is exactly the entries acked to clients NAME..., each with
# the id it was acked with
check_acked() {
	s=$1
	shift
	for c in "$@"; do cat "$T/acked.$c"; done | sort >"$T/acked.all"
	sort "$T/log$s" >"$T/log$s.sorted"
	dupes=$(cut -f2 "$T/log$s" | sort | uniq -d | wc -l)
	[ "$dupes" -eq 0 ] || fail "server $s: $dupes values are in the log twice"
	missing=$(comm -23 "$T/acked.all" "$T/log$s.sorted" | wc -l)
	[ "$missing" -eq 0 ] ||
	    fail "server $s: $missing acked entries are not in the log with their acked id: $(comm -23 "$T/acked.all" "$T/log$s.sorted" | head -3 | tr '\t\n' ': ')"
	extra=$(comm -13 "$T/acked.all" "$T/log$s.sorted" | wc -l)
	[ "$extra" -eq 0 ] ||
	    fail "server $s: the log holds $extra entries no client was acked for: $(comm -13 "$T/acked.all" "$T/log$s.sorted" | head -3 | tr '\t\n' ': ')"
}

# failover_us I: the server's own measure of its last failover
failover_us() {
	"$SEQCAST" stats --timeout 5 --server "$(addr "$1")" | json_num last_failover_us
}

# rejoin I VIEW COORD TOTAL: restart server I with its data_dir; it comes
# back a member of VIEW (coordinated by COORD) and applies TOTAL entries
rejoin() {
	t0=$(now_ms)
	start_server "$1"
	while :; do
		read -r v c nv role applied <<EOF
$(sinfo "$1")
EOF
		[ "$v" = "$2" ] && [ "$nv" = "$2" ] && [ "$c" = "$3" ] &&
		    [ "$role" = member ] && break
		[ "$(now_ms)" -lt $((t0 + 20000)) ] ||
		    fail "restarted server $1 is not a member of view $2 (coordinator $3) within 20 s: view ${v:-?}, coordinator ${c:-?}, normal_view ${nv:-?}, role ${role:-?}"
		sleep 0.05
	done
	wait_all "$4" 30 "$1"
	s=$("$SEQCAST" stats --timeout 5 --server "$(addr "$1")")
	echo "  server $1 restarted: a member of view $2 (coordinator $3), $4 entries applied after $(($(now_ms) - t0)) ms; uncommitted entries cut: $(echo "$s" | json_num truncated)"
}

# ---------------------------------------------------------------- 3 servers
write_conf 3 "data_dir = $T/data3" "fsync = each"
start_cluster
load m1 1
load m2 2
sleep "$KILL_AFTER"
before=$(sinfo 1 | cut -d' ' -f5)
kill_coordinator 1 1 2 0
K=$KILLED
SURV=$(others "$K")
wait_view "$KVIEW" 10 $SURV
V1=$VIEW C1=$COORD
echo "  survivors $SURV: view $V1, coordinator $C1 (applied $before when the coordinator died);" \
    "last_failover_us: $(for i in $SURV; do printf 'server %s %s ' "$i" "$(failover_us "$i")"; done)"
finish m1
finish m2
TOTAL=$((2 * COUNT + 1))
wait_all "$TOTAL" 30 $SURV
check_logs "$TOTAL" $SURV
for i in $SURV; do check_acked "$i" m1 m2 "probe$K"; done
echo "  each survivor's log is exactly the $TOTAL acked entries, each once with its acked id"

rejoin "$K" "$V1" "$C1" "$TOTAL"
check_logs "$TOTAL"
"$SEQCAST" add --server "$(addr "$K")" --count 1000 --prefix back --timeout 20 >"$T/acked.back" ||
    fail "adds through the rejoined server $K failed"
TOTAL=$((TOTAL + 1000))
wait_all "$TOTAL" 30
check_logs "$TOTAL"
for i in 0 1 2; do check_acked $i m1 m2 "probe$K" back; done
echo "  1000 more through the rejoined server $K: all three logs are exactly the acked entries"
stop_all
for i in 0 1 2; do mv "$T/server$i.log" "$T/three-server$i.log"; done

# ---------------------------------------------------------------- 5 servers
write_conf 5 "data_dir = $T/data5" "fsync = each"
start_cluster
load f3 3
load f4 4
sleep "$KILL_AFTER"
kill_coordinator 3 3 4 1 2 0
K1=$KILLED
wait_view "$KVIEW" 10 $(others "$K1")
V1=$VIEW C1=$COORD
echo "  first failover: view $V1, coordinator $C1, its last_failover_us $(failover_us "$C1")"
sleep 1
kill_coordinator 3 3 4 1 2 0
K2=$KILLED
SURV=$(others "$K1" "$K2")
wait_view "$KVIEW" 10 $SURV
V2=$VIEW C2=$COORD
echo "  second failover: view $V2, coordinator $C2, its last_failover_us $(failover_us "$C2")"
finish f3
finish f4
TOTAL=$((2 * COUNT + 2))
wait_all "$TOTAL" 30 $SURV
check_logs "$TOTAL" $SURV
for i in $SURV; do check_acked $i f3 f4 "probe$K1" "probe$K2"; done
echo "  each survivor's log is exactly the $TOTAL acked entries, each once with its acked id"
rejoin "$K1" "$V2" "$C2" "$TOTAL"
rejoin "$K2" "$V2" "$C2" "$TOTAL"
check_logs "$TOTAL"
for i in 0 1 2 3 4; do check_acked $i f3 f4 "probe$K1" "probe$K2"; done
