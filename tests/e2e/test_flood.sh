# Hostile input: a cluster with a shared key takes 1,000,000 random,
# truncated and mutated datagrams at every server port and at the group
# (bounded: at most FLOOD_SECONDS) while a client with the key adds 10,000
# entries. Every entry is applied once on every server, nothing else is,
# the daemons stay alive with bounded memory, and the rejects are counted.
# Then: a datagram from a process without the key and a replayed valid
# datagram change nothing.
. tests/e2e/lib.sh

FLOOD=${FLOOD:-1000000}
FLOOD_SECONDS=${FLOOD_SECONDS:-60}
"$SEQCASTD" --gen-key "$T/key" >/dev/null || fail "cannot make a key"
write_conf 3 "key_file = $T/key"
KEYOPT="--key-file $T/key"
K=$KEYOPT
start_cluster --quiet


"$SEQCAST" add $K --quiet --server "$(addr 1)" --count 5000 --prefix flood1 --timeout 60 &
c1=$!
"$SEQCAST" add $K --quiet --server "$(addr 2)" --count 5000 --prefix flood2 --timeout 60 &
c2=$!
per=$((FLOOD / 4))
N=""
for dest in "$(addr 0)" "$(addr 1)" "$(addr 2)" "$GROUP"; do
	"$NOISE" --to "$dest" --count $per --seconds "$FLOOD_SECONDS" --seed $$ \
	    --cluster 1 >"$T/noise.$(echo "$dest" | tr -dc 0-9)" &
	N="$N $!"
done
for p in $N; do wait "$p" || fail "noise sender failed"; done
sent=$(cat "$T"/noise.* | awk '{s += $1} END {print s}')
wait $c1 || fail "client 1 failed under the flood"
wait $c2 || fail "client 2 failed under the flood"
wait_all 10000 60
check_logs 10000
{ seq -f 'flood1-%g' 1 5000; seq -f 'flood2-%g' 1 5000; } | sort >"$T/sent"
cut -f2 "$T/log0" | sort | cmp -s - "$T/sent" || fail "the log holds something other than the 10,000 entries"
rejected=0
i=0
while [ $i -lt 3 ]; do
	p=$(eval echo \$PID$i)
	kill -0 "$p" 2>/dev/null || fail "server $i died"
	rss=$(awk '/VmHWM/ {print $2}' /proc/"$p"/status)
	[ "$rss" -lt 262144 ] || fail "server $i peak RSS $rss kB"
	r=$(stat $i rejected)
	rejected=$((rejected + r))
	echo "  server $i: alive, peak RSS $((rss / 1024)) MiB, rejected $r"
	i=$((i + 1))
done
[ "$rejected" -gt 0 ] || fail "no datagram was rejected"
echo "  $sent hostile datagrams sent; $rejected reached a server and were rejected; 10,000 entries applied once each"

# Without the key: an ADD from a client that has no key changes nothing.
"$SEQCAST" add --server "$(addr 1)" --timeout 2 "no key" 2>/dev/null &&
    fail "an add without the key was accepted"
sleep 0.5
n=$(stat 0 applied)
[ "$n" -eq 10000 ] || fail "applied $n after an unkeyed add"
echo "  an add without the key: refused (auth_missing $(stat 1 auth_missing))"
# A replay: record valid, signed datagrams off the group (the heartbeats
# and the DATA of one more entry) and send them again. Counted over the
# three servers (the one that sent them drops its own echoes unread, and
# the flood may have moved the coordinator), as replays or, if the sender
# sent more than the window since, as stale.
refused() {
	k=0
	for i in 0 1 2; do
		k=$((k + $(stat $i auth_replay) + $(stat $i auth_stale)))
	done
	echo $k
}
before=$(refused)
"$NOISE" --to "$GROUP" --replay 8 --seconds 5 >/dev/null &
r=$!
sleep 0.2
"$SEQCAST" add $K --server "$(addr 2)" "one more" >/dev/null || fail "add failed"
wait $r || fail "could not record datagrams to replay"
sleep 0.5
after=$(refused)
[ "$after" -gt "$before" ] || fail "replayed datagrams were not refused"
wait_all 10001 10
check_logs 10001
echo "  8 recorded valid datagrams replayed: refused as replays ($((after - before)) refusals over the three servers), logs unchanged"
