# Durable logs: kill -9 a member under a steady stream of adds and restart
# it (it catches up: 40,000 entries); kill -9 the coordinator under load
# and restart it (no id reused, every acked entry present exactly once,
# the next add gets id 70,001); start a fourth, empty server once 90,001
# entries exist while 10,000 more are added (it catches up from id 1 to
# 100,001); kill -9 the coordinator under load and restart it with its
# data_dir wiped (a restart without a log: it comes back as an empty
# member and catches up, never stamps from its empty log; 110,001).
# To see it fail: make the start-up replay in daemon/logfile.c truncate the
# file instead of reading it: the restarted coordinator resumes at id 1 and
# the cluster never reaches 70,000.
. tests/e2e/lib.sh

DATA=$T/data
write_conf 4 "data_dir = $DATA" fsync=each
NSERVERS=3   # server 3 joins later
start_cluster

# acked_once FILE...: every "ID<TAB>VALUE" a client printed is in the log
# of server 0 exactly once, with that id.
acked_once() {
	acked_kept 0 "$@"
	dupes=$(cut -f2 "$T/log0" | sort | uniq -d | wc -l)
	[ "$dupes" -eq 0 ] || fail "$dupes values appear twice in the log"
	echo "  $ACKED acked entries each present once with the id they were acked with"
}

restart() {
	i=$1
	shift
	kill -9 "$(eval echo \$PID$i)"
	wait "$(eval echo \$PID$i)" 2>/dev/null
	sleep "${1:-0.5}"
	start_server "$i"
	"$SEQCAST" wait --server "$(addr "$i")" --applied 0 --timeout 10 || fail "server $i did not restart"
}

# 1. A member dies under load and comes back.
"$SEQCAST" add --server "$(addr 0)" --count 20000 --rate 8000 --prefix m0 --timeout 30 >"$T/a0" &
c0=$!
"$SEQCAST" add --server "$(addr 2)" --count 20000 --rate 8000 --prefix m2 --timeout 30 >"$T/a2" &
c2=$!
sleep 1
restart 1 1
echo "  killed -9 and restarted server 1 under load: $(grep -o 'recovered, resuming at [0-9]*' "$T/server1.log" | tail -1)"
wait $c0 || fail "client through server 0 failed"
wait $c2 || fail "client through server 2 failed"
wait_all 40000 60
check_logs 40000
acked_once "$T/a0" "$T/a2"

# 2. The coordinator dies under load and comes back.
"$SEQCAST" add --server "$(addr 1)" --count 15000 --rate 6000 --prefix c1 --timeout 60 >"$T/b1" &
c1=$!
"$SEQCAST" add --server "$(addr 2)" --count 15000 --rate 6000 --prefix c2 --timeout 60 >"$T/b2" &
c2=$!
sleep 1
restart 0 1
echo "  killed -9 and restarted the coordinator under load: $(grep -o 'recovered, resuming at [0-9]*' "$T/server0.log" | tail -1)"
wait $c1 || fail "client through server 1 failed"
wait $c2 || fail "client through server 2 failed"
wait_all 70000 60
check_logs 70000
acked_once "$T/a0" "$T/a2" "$T/b1" "$T/b2"
"$SEQCAST" add --server "$(addr 0)" "after the coordinator restart" >"$T/b0" || fail "no adds after the restart"
grep -q '^70001	after the coordinator restart$' "$T/b0" || fail "the next entry did not get id 70001: $(cat "$T/b0")"
echo "  the cluster goes on: $(cat "$T/b0")"

# 3. A fourth, empty server joins while adds continue.
"$SEQCAST" add --quiet --server "$(addr 0)" --count 20000 --window 2048 --prefix pre --timeout 30 ||
    fail "bulk add failed"
"$SEQCAST" add --server "$(addr 1)" --count 10000 --rate 5000 --prefix during --timeout 30 >"$T/d1" &
c1=$!
start_server 3
wait $c1 || fail "client during the join failed"
NSERVERS=4
start=$(date +%s)
wait_all 100001 120
echo "  server 3 joined empty and caught up to 100001 entries in $(($(date +%s) - start)) s after the adds ended"
check_logs 100001
"$SEQCAST" stats --server "$(addr 0)" | grep -o '"served_from_log":[0-9]*' | sed 's/^/  coordinator /'

# 4. The coordinator dies under load and comes back without its log.
c=$("$SEQCAST" stats --server "$(addr 1)" | json_num coordinator)
o=$(( (c + 1) % 4 ))
p=$(( (c + 2) % 4 ))
"$SEQCAST" add --server "$(addr $o),$(addr $p)" --count 5000 --rate 4000 --prefix w1 --timeout 60 >"$T/e1" &
c1=$!
"$SEQCAST" add --server "$(addr $p),$(addr $o)" --count 5000 --rate 4000 --prefix w2 --timeout 60 >"$T/e2" &
c2=$!
sleep 0.5
kill -9 "$(eval echo \$PID$c)"
wait "$(eval echo \$PID$c)" 2>/dev/null
rm -f "$DATA/server-$c.log" "$DATA/server-$c.state"
start_server "$c"
"$SEQCAST" wait --server "$(addr "$c")" --applied 0 --timeout 10 || fail "server $c did not restart"
wait $c1 || fail "client through server $o failed"
wait $c2 || fail "client through server $p failed"
wait_all 110001 120
check_logs 110001
acked_once "$T/a0" "$T/a2" "$T/b1" "$T/b2" "$T/e1" "$T/e2"
role=$("$SEQCAST" stats --server "$(addr "$c")" | json_str role)
echo "  coordinator $c killed -9 and restarted with its data_dir wiped under load: a $role, caught up to 110001"
