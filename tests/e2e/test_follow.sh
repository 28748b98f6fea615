# seqcast log --follow (issue 16): a follower of server 1 prints the log
# and then each entry as it is applied, through a restart of that very
# server and a change of coordinator, without a gap or a repeat; and it
# costs an idle server next to nothing (a long poll, no busy polling).
#
# Three servers (logs in memory: a restarted server comes back empty and
# catches up from the others). The follower starts on server 1 with the
# log empty; two clients add 20,000 entries a second between them for
# FOLLOW_SECONDS (30) through servers 0 and 2. A third of the way in,
# server 1 is killed (-9) and started again; two thirds in, the
# coordinator (server 0) is killed and started again (server 1 takes
# over as view 1's coordinator). When every entry is applied everywhere,
# the follower's output must equal server 1's log exactly (ids 1..N once,
# in order, every value), and it must exit 0 on SIGINT.
#
# Then, all idle: server 1's CPU (utime + stime of /proc/PID/stat) over
# IDLE_SECONDS with the follower attached, and with none, is printed and
# must stay under 2% of one CPU; the follower's requests in that time
# are printed (about one a second: each waits LOGFETCH_WAIT_MS).

. tests/e2e/lib.sh

SECONDS_LOAD=${FOLLOW_SECONDS:-30}
RATE=${FOLLOW_RATE:-20000}
IDLE=${IDLE_SECONDS:-5}
N=$((SECONDS_LOAD * RATE))
HALF=$((N / 2))

write_conf 3
start_cluster

# cpu_ticks PID: utime + stime, in clock ticks
cpu_ticks() { awk '{ print $14 + $15 }' "/proc/$1/stat"; }
log_reqs() { "$SEQCAST" stats --server "$(addr 1)" | grep -o '"log_req":[0-9]*' | head -1 | cut -d: -f2; }

# server 1 idle without a follower, for comparison
c0=$(cpu_ticks "$PID1")
sleep "$IDLE"
alone=$(($(cpu_ticks "$PID1") - c0))

"$SEQCAST" log --follow --timeout 60 --server "$(addr 1)" >"$T/follow" 2>"$T/follow.err" &
FPID=$!
PIDS="$PIDS $FPID"
start=$(date +%s)
"$SEQCAST" add --quiet --timeout 60 --count $HALF --rate $((RATE / 2)) --prefix a \
    --server "$(addr 0),$(addr 2)" &
A=$!
"$SEQCAST" add --quiet --timeout 60 --count $((N - HALF)) --rate $((RATE / 2)) --prefix b \
    --server "$(addr 2),$(addr 0)" &
B=$!
PIDS="$PIDS $A $B"

sleep $((SECONDS_LOAD / 3))
echo "  $(($(date +%s) - start)) s: kill -9 server 1 (followed) and start it again"
kill -9 "$PID1"
wait "$PID1" 2>/dev/null
start_server 1
sleep $((SECONDS_LOAD / 3))
echo "  $(($(date +%s) - start)) s: kill -9 server 0 (the coordinator) and start it again"
kill -9 "$PID0"
wait "$PID0" 2>/dev/null
sleep 1
start_server 0

wait $A || fail "client a failed"
wait $B || fail "client b failed"
echo "  $(($(date +%s) - start)) s: $N entries acknowledged"
wait_all "$N" 120
i=0
while [ "$(wc -l <"$T/follow")" -lt "$N" ] && [ $i -lt 300 ]; do
	sleep 0.1
	i=$((i + 1))
done
kill -0 "$FPID" 2>/dev/null || fail "the follower died: $(cat "$T/follow.err")"

# idle, the follower attached
r0=$(log_reqs)
c0=$(cpu_ticks "$PID1")
sleep "$IDLE"
followed=$(($(cpu_ticks "$PID1") - c0))
reqs=$(($(log_reqs) - r0))

kill -INT "$FPID"
wait "$FPID"
rc=$?
[ $rc -eq 0 ] || fail "the follower exited $rc on SIGINT: $(cat "$T/follow.err")"
"$SEQCAST" log --server "$(addr 1)" --timeout 60 >"$T/final" || fail "log of server 1"
[ "$(wc -l <"$T/final")" -eq "$N" ] || fail "server 1's log has $(wc -l <"$T/final") lines"
seq 1 "$N" >"$T/ids"
cut -f1 "$T/follow" | cmp -s - "$T/ids" ||
    fail "followed ids are not 1..$N once each in order ($(wc -l <"$T/follow") lines)"
cmp -s "$T/follow" "$T/final" || fail "the followed output differs from the final log"
echo "  followed output = server 1's final log: $N entries, ids 1..$N once each"

hz=$(getconf CLK_TCK)
bound=$((IDLE * hz / 50))      # 2% of one CPU
echo "  server 1 idle for $IDLE s: $followed ticks of CPU with the follower attached" \
    "($reqs log requests: long polls), $alone without one ($hz ticks a second)"
[ "$followed" -le "$bound" ] ||
    fail "server 1 used $followed ticks in $IDLE s idle with a follower (bound $bound)"
[ "$reqs" -le $((IDLE * 3)) ] || fail "the follower sent $reqs requests in $IDLE s idle"
