# A running daemon survives garbage, truncated and mutated datagrams at its
# unicast port and on the group (3,000 of each kind at each of the 3 ports
# and the group, each batch cut short after 20 s: up to 36,000), counts them
# as rejected, and still answers `seqcast stats` and adds entries afterwards.
# To see it fail: let sender_ok() in daemon/node.c return 1 at once (any
# address passes for any server): a member dies under the noise.
. tests/e2e/lib.sh

write_conf 3
start_cluster
"$SEQCAST" add --quiet --server "$(addr 1)" --count 100 --prefix before || fail "add failed"
for kind in random truncated mutated; do
	for i in 0 1 2; do
		"$NOISE" --to "$(addr $i)" --kind $kind --count 3000 --seconds 20 \
		    --seed $((i + 7)) >>"$T/noise" || fail "noise failed"
	done
	"$NOISE" --to "$GROUP" --kind $kind --count 3000 --seconds 20 --seed 3 >>"$T/noise" ||
	    fail "noise failed"
done
sent=$(awk '{s += $1} END {print s + 0}' "$T/noise")
i=0
total=0
while [ $i -lt 3 ]; do
	kill -0 "$(eval echo \$PID$i)" 2>/dev/null || fail "server $i died"
	r=$(stat $i rejected)
	[ -n "$r" ] && [ "$r" -gt 0 ] || fail "server $i counted no rejected datagram"
	total=$((total + r))
	i=$((i + 1))
done
# No data_dir here: the log file's path is "" (not the stack's bytes).
"$SEQCAST" stats --timeout 60 --server "$(addr 0)" |
    grep -q '"log_file":{"path":"",' || fail "stats: log_file.path is not empty"
echo "  $sent hostile datagrams sent (the group's reach all 3 servers);" \
    "they rejected $total, all alive"
# Mutated datagrams may be well-formed ADDs (anyone may add), but nothing
# from a stranger's address passes for a server: the servers must still
# agree with each other and go on adding.
"$SEQCAST" add --quiet --server "$(addr 2)" --count 100 --prefix after || fail "add after noise failed"
n=$(stat 0 applied)
[ "$n" -ge 200 ] || fail "coordinator applied only $n"
wait_all "$n" 30
i=0
while [ $i -lt 3 ]; do
	"$SEQCAST" log --timeout 30 --server "$(addr $i)" >"$T/log$i" || fail "log $i"
	i=$((i + 1))
done
cmp -s "$T/log0" "$T/log1" && cmp -s "$T/log0" "$T/log2" || fail "logs differ after the noise"
grep -q '^[0-9]*	after-100$' "$T/log0" || fail "entry after-100 missing"
echo "  still adding after the noise: $n entries applied"
