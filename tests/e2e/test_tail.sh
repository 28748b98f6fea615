# Losing only the tail: server 2 drops every DATA datagram after id 4000
# (retransmissions still reach it). Nothing after 4000 arrives in a
# propagate packet, so only the coordinator's heartbeat can tell server 2
# that the tail exists; it must still converge, through NACKs.
. tests/e2e/lib.sh

write_conf 3
start_server 0
start_server 1
start_server 2 --fault fault_drop_data_above=4000
i=0
while [ $i -lt 3 ]; do
	"$SEQCAST" wait --server "$(addr $i)" --applied 0 --timeout 10 || fail "server $i not up"
	i=$((i + 1))
done
"$SEQCAST" add --quiet --server "$(addr 1)" --count 5000 --prefix tail || fail "add failed"
wait_all 5000 30
check_logs 5000
dropped=$(stat 2 dropped)
nacks=$(stat 2 nacks_sent)
hb=$(stat 2 heartbeat)
[ "$dropped" -gt 0 ] || fail "server 2 dropped no DATA"
[ "$nacks" -gt 0 ] || fail "server 2 sent no NACK"
[ "$(stat 1 nacks_sent)" -eq 0 ] || fail "server 1 lost nothing yet sent NACKs"
echo "  server 2 dropped $dropped DATA datagrams after id 4000, saw $hb heartbeats, sent $nacks NACKs, converged"
