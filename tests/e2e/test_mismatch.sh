# One cluster, one configuration, on real daemons: a server restarted with
# a cluster file that names another coordinator (the fault run of the
# failover issue: two coordinators both acked ids 1..100 to different
# values) is refused by the others and refuses them, each side's log
# names the setting that differs, the two servers that agree go on as a
# majority, and nothing is acknowledged twice or lost. Then a server
# whose group differs, then the file mended: one log again.
# At a cold start (no data_dir) a server with another file keeps the two
# others from starting (they cannot count their own word); all three say
# why, and no add is acknowledged.
# To see it fail: drop the digest check in sender_ok() (daemon/node.c):
# the servers take each other's datagrams and nobody names a difference.
. tests/e2e/lib.sh

# with_file I FILE: restart server I with another cluster file
with_file() {
	eval "kill \$PID$1 2>/dev/null; wait \$PID$1 2>/dev/null"
	CONF=$2
	start_server "$1"
	unset CONF
}

write_conf 3
cp "$T/cluster.conf" "$T/good.conf"
sed 's/^coordinator = 0/coordinator = 1/' "$T/good.conf" >"$T/coord1.conf"
start_cluster
"$SEQCAST" add --quiet --server "$(addr 1)" --count 100 --prefix before ||
    fail "add before the fault failed"
wait_all 100 10

# 1. Server 1 comes back saying coordinator = 1.
with_file 1 "$T/coord1.conf"
sleep 1
"$SEQCAST" add --quiet --server "$(addr 0)" --count 300 --prefix major \
    --timeout 10 || fail "the majority (0, 2) did not take adds"
"$SEQCAST" add --quiet --server "$(addr 2)" --count 300 --prefix major2 \
    --timeout 10 || fail "the majority (0, 2) did not take adds through 2"
if "$SEQCAST" add --quiet --server "$(addr 1)" --count 5 --prefix odd \
    --timeout 3 2>"$T/odd.err"; then
	fail "server 1, alone with its own cluster file, acknowledged adds"
fi
grep -q "differs from ours in: coordinator" "$T/server0.log" ||
    fail "server 0 did not name the setting that differs"
grep -q "differs from ours in: coordinator" "$T/server1.log" ||
    fail "server 1 did not name the setting that differs"
r0=$(stat 0 config_refused)
r1=$(stat 1 config_refused)
[ "${r0:-0}" -gt 0 ] && [ "${r1:-0}" -gt 0 ] ||
    fail "config_refused: server 0 $r0, server 1 $r1"
role1=$("$SEQCAST" stats --timeout 10 --server "$(addr 1)" | json_str role)
applied1=$(stat 1 applied)
[ "$role1" != coordinator ] || fail "server 1 coordinates alone"
[ "${applied1:-0}" -le 100 ] || fail "server 1 applied $applied1 entries alone"
echo "  coordinator = 1 on server 1: refused both ways (config_refused" \
    "$r0 at server 0, $r1 at server 1), 'differs from ours in:" \
    "coordinator' in both logs; 0 and 2 took 600 adds, 1 ($role1," \
    "applied $applied1) acknowledged none: $(head -c 100 "$T/odd.err")"
check_logs 700 0 2

# 2. Server 1 comes back with another group.
sed 's/^group = .*/group = 239.255.77.77:4299/' "$T/good.conf" >"$T/group.conf"
with_file 1 "$T/group.conf"
sleep 1
"$SEQCAST" add --quiet --server "$(addr 2)" --count 100 --prefix group \
    --timeout 10 || fail "the majority did not take adds (group)"
grep -q "differs from ours in:.*group" "$T/server0.log" ||
    fail "server 0 did not name the group"
echo "  another group on server 1: named ('group') in server 0's log"

# 3. The file mended: server 1 rejoins and catches up.
with_file 1 "$T/good.conf"
wait_all 800 30
check_logs 800
echo "  file mended: server 1 rejoined; 3 logs identical, 800 entries"

# 4. A cold start with one server's file differing (no data_dir).
for i in 0 1 2; do eval "kill \$PID$i; wait \$PID$i 2>/dev/null"; done
for i in 0 1 2; do mv "$T/server$i.log" "$T/run1-server$i.log"; done
start_server 0
with_file 1 "$T/coord1.conf"
start_server 2
if "$SEQCAST" add --quiet --server "$(addr 0),$(addr 2)" --count 5 \
    --prefix cold --timeout 7 2>/dev/null; then
	fail "an add was acknowledged while the cluster could not start"
fi
for i in 0 2; do
	grep -q "still recovering: 1 of the 2 other servers' answers it needs; no answer from server(s) 1" \
	    "$T/server$i.log" || fail "server $i did not say what it waits for"
	[ "$(stat $i applied)" = 0 ] || fail "server $i applied entries"
done
echo "  cold start, server 1's file differing: no add acknowledged; 0 and 2" \
    "say: $(grep -m1 -o 'still recovering: [^;]*; [^;]*' "$T/server0.log")"
