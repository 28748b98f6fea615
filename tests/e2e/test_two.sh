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

# down I: kill -9 server I
down() {
	eval "kill -9 \$PID$1; wait \$PID$1 2>/dev/null"
}

# goes_on I PREFIX: 1000 adds through server I are acknowledged, the two
# logs end identical, and every ACK so far ($T/acks) is in them with its id
goes_on() {
	"$SEQCAST" add --server "$(addr "$1")" --count 1000 --prefix "$2" \
	    --timeout 20 >>"$T/acks" || fail "no adds through server $1 ($2)"
	n=$(stat "$1" applied)
	wait_all "$n" 20
	check_logs "$n"
	acked_kept "$1" "$T/acks"
}

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
down 1
down_add 0
echo "  member down: $(cat "$T/down.err")"
start_server 1
goes_on 1 b

# 2. In memory: the coordinator dies and comes back empty.
down 0
down_add 1
start_server 0
goes_on 1 e
grep -q "lost our log; joining the change to view 1" "$T/server0.log" ||
    fail "server 0 did not join the view change"
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
down 0
down_add 1
echo "  coordinator down: $(cat "$T/down.err")"
start_server 0
goes_on 1 d
coord=$("$SEQCAST" stats --timeout 10 --server "$(addr 0)" | json_num coordinator)
echo "  coordinator back with its log: server $coord coordinates; every" \
    "acked entry once with its id"
