# Losing only the tail: server 2 drops every DATA datagram whose first id
# is above 4000 (retransmissions still reach it), so the last DATA it gets
# ends at 4000 or a few ids past it, and no DATA tells it that more exist.
# Nor does a retransmission: server 1 loses nothing (asserted), so none is
# multicast, and server 2 asks for one only if the loopback loses a DATA
# below 4000. What reveals the tail to server 2 is the coordinator's
# heartbeat (its head is the highest id); server 2 must then converge,
# through NACKs.
#
# Two runs show it:
#  1. heartbeats reach server 2: all three logs converge to the same 5000
#     entries; server 2 received heartbeats, opened gaps, sent NACKs and
#     has nothing missing; server 1 sent no NACK.
#  2. the same, but server 2 also drops every heartbeat (and every
#     retransmission, so that a gap real loopback loss might open below
#     4001 cannot reveal the tail through a retransmission's head either):
#     servers 0 and 1 apply all 5000, server 2 never even learns that ids
#     above its last DATA exist (its highest known id stays below 5000).
#     Run 2 is run 1 with the heartbeat taken away; it fails if anything
#     else starts to reveal the tail.
#
# To see it fail: in daemon/node.c's SC_HEARTBEAT case, call sc_gap_head
# only on the coordinator: run 1 fails ("server 2 did not apply 5000
# entries in 30 s"). Give run 2 fault_types=retx (heartbeats pass): it
# fails on the heartbeats server 2 received, and without that check on
# "server 2 learnt of id 5000".
#
# Run 1 also asserts the direct evidence: server 2's "gaps_from_heartbeat"
# (gaps a heartbeat's head opened) is above 0, and its
# "gaps_from_stamped" is 0 (no client talks to it).
. tests/e2e/lib.sh

ENTRIES=5000
ABOVE=4000

# start NAME [seqcastd flags for server 2...]: a fresh cluster of three
start() {
	name=$1
	shift
	for p in $PIDS; do kill "$p"; wait "$p"; done
	PIDS=""
	rm -f "$T"/server*.log
	write_conf 3 heartbeat_ms=50
	start_server 0
	start_server 1
	start_server 2 --fault fault_drop_data_above=$ABOVE "$@"
	# In the view before the load: a server still recovering would learn
	# the head from the coordinator's answer, not from a heartbeat.
	for i in 0 1 2; do
		in_view $i 10
	done
	"$SEQCAST" add --quiet --server "$(addr 1)" --count $ENTRIES \
	    --prefix tail || fail "$name: add failed"
}

# 1. The heartbeat reaches server 2.
start heartbeat
wait_all $ENTRIES 30
check_logs $ENTRIES
dropped=$(stat 2 dropped)
hb=$(stat 2 heartbeat)
gaps=$(stat 2 gaps)
nacks=$(stat 2 nacks_sent)
[ "$dropped" -gt 0 ] || fail "server 2 dropped no DATA"
[ "$hb" -gt 0 ] || fail "server 2 received no heartbeat"
[ "$gaps" -gt 0 ] || fail "server 2 opened no gap"
byhb=$(stat 2 gaps_from_heartbeat)
[ "$byhb" -gt 0 ] || fail "server 2: no gap opened by a heartbeat"
[ "$(stat 2 gaps_from_stamped)" -eq 0 ] || fail "server 2: a gap opened by a STAMPED, with no client of its own"
[ "$nacks" -gt 0 ] || fail "server 2 sent no NACK"
[ "$(stat 2 missing)" -eq 0 ] || fail "server 2 still misses $(stat 2 missing) ids"
[ "$(stat 2 highest)" -eq $ENTRIES ] || fail "server 2 knows of $(stat 2 highest) ids"
[ "$(stat 1 nacks_sent)" -eq 0 ] || fail "server 1 lost nothing yet sent NACKs"
echo "  heartbeat: server 2 dropped $dropped DATA datagrams above id $ABOVE," \
    "received $hb heartbeats, opened $gaps gaps ($byhb by a heartbeat), sent $nacks NACKs, converged"

# 2. The heartbeat (and any retransmission) does not reach server 2.
start "no heartbeat" --fault fault_in_drop=100% --fault fault_types=heartbeat,retx
NSERVERS=2
wait_all $ENTRIES 30
sleep 1    # 20 heartbeat intervals
applied=$(stat 2 applied)
highest=$(stat 2 highest)
hb=$(stat 2 heartbeat)
[ "$hb" -eq 0 ] || fail "no heartbeat: server 2 still received $hb heartbeats"
sent=$("$SEQCAST" stats --timeout 60 --server "$(addr 0)" |
    grep -o '"out":{[^}]*}' | head -1 | json_num heartbeat)
[ "$sent" -gt 0 ] || fail "no heartbeat: the coordinator sent none"
[ "$highest" -lt $ENTRIES ] ||
    fail "no heartbeat: server 2 learnt of id $highest (applied $applied) without a heartbeat or retransmission"
[ "$applied" -lt $ENTRIES ] || fail "no heartbeat: server 2 applied all $applied"
echo "  no heartbeat: server 2 applied $applied, knows of nothing beyond $highest," \
    "while servers 0 and 1 have $ENTRIES ($sent heartbeats sent)"
