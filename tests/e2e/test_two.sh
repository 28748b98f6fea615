# Two servers, a majority of two (README "Two servers"): when one is down
# the other commits nothing and says so; when it comes back the pair goes
# on where it stopped, every acknowledged entry kept with its id.
#  1. logs in memory: the member killed -9: adds through the coordinator
#     get "no majority"; the member restarted empty catches up, adds go on;
#  2. logs in memory: the coordinator killed -9 and restarted empty: it
#     joins the survivor's view change vouching for nothing, the survivor
#     coordinates view 1 with its log, adds go on;
#  3. data_dir, fsync = each: the coordinator killed -9: adds through the
#     member get "no majority"; restarted with its log, it rejoins, the
#     member coordinates view 1, adds go on; two identical logs.
# To see it fail: let check_quorum() in daemon/node_view.c always find a
# majority: the coordinator of two, its member down, goes quiet instead of
# answering "unavailable" (it still acknowledges nothing: the commit rule,
# a majority's REPORTs, holds on its own; the simulator's ack-no-majority
# breaks that one).
. tests/e2e/lib.sh

# down_add I: an add through server I must fail with "no majority"
down_add() {
	if "$SEQCAST" add --quiet --server "$(addr "$1")" --count 3 \
	    --prefix "down$1" --timeout 3 2>"$T/down.err"; then
		fail "server $1 acknowledged adds with its peer down"
	fi
	grep -q "no majority" "$T/down.err" ||
	    fail "server $1: not 'no majority': $(cat "$T/down.err")"
}

# 1. In memory: the member dies and comes back empty.
write_conf 2
start_cluster
"$SEQCAST" add --server "$(addr 1)" --count 1000 --prefix a >"$T/acks" ||
    fail "add failed"
kill -9 "$PID1"
wait "$PID1" 2>/dev/null
down_add 0
echo "  member down: $(cat "$T/down.err")"
start_server 1
"$SEQCAST" add --server "$(addr 1)" --count 1000 --prefix b --timeout 20 \
    >>"$T/acks" || fail "no adds after the member came back"
n=$(stat 0 applied)
wait_all "$n" 20
check_logs "$n"
sort "$T/acks" >"$T/acked"
sort "$T/log0" >"$T/sorted0"
[ "$(comm -23 "$T/acked" "$T/sorted0" | wc -l)" -eq 0 ] ||
    fail "acked entries missing or under another id"

# 2. In memory: the coordinator dies and comes back empty.
kill -9 "$PID0"
wait "$PID0" 2>/dev/null
down_add 1
start_server 0
"$SEQCAST" add --server "$(addr 1)" --count 1000 --prefix e --timeout 20 \
    >>"$T/acks" || fail "no adds after the coordinator came back empty"
grep -q "lost our log; joining the change to view 1" "$T/server0.log" ||
    fail "server 0 did not join the view change"
n=$(stat 1 applied)
wait_all "$n" 20
check_logs "$n"
sort "$T/acks" >"$T/acked"
sort "$T/log1" >"$T/sorted1"
[ "$(comm -23 "$T/acked" "$T/sorted1" | wc -l)" -eq 0 ] ||
    fail "acked entries missing or under another id"
echo "  coordinator back without its log: it joined view 1 vouching for" \
    "nothing, server $(stat 0 coordinator) coordinates; every acked entry kept"
for p in $PIDS; do kill "$p" 2>/dev/null; wait "$p" 2>/dev/null; done
PIDS=""
for i in 0 1; do mv "$T/server$i.log" "$T/mem-server$i.log"; done

# 3. data_dir, fsync = each: the coordinator dies and comes back.
mkdir -p "$T/data"
write_conf 2 "data_dir = $T/data" fsync=each
start_cluster
"$SEQCAST" add --server "$(addr 1)" --count 1000 --prefix c >"$T/acks" ||
    fail "add failed"
kill -9 "$PID0"
wait "$PID0" 2>/dev/null
down_add 1
echo "  coordinator down: $(cat "$T/down.err")"
start_server 0
"$SEQCAST" add --server "$(addr 1)" --count 1000 --prefix d --timeout 20 \
    >>"$T/acks" || fail "no adds after the coordinator came back"
coord=$("$SEQCAST" stats --timeout 10 --server "$(addr 0)" | json_num coordinator)
n=$(stat 1 applied)
wait_all "$n" 20
check_logs "$n"
sort "$T/acks" >"$T/acked"
sort "$T/log0" >"$T/sorted0"
[ "$(comm -23 "$T/acked" "$T/sorted0" | wc -l)" -eq 0 ] ||
    fail "acked entries missing or under another id"
echo "  coordinator back with its log: server $coord coordinates; every" \
    "acked entry once with its id"
