# Loss on a real (virtual) network: three hosts, each a network namespace
# on a bridge (tools/netlab), and nftables dropping 10% of the UDP each
# host receives ("numgen random mod 100 < 10 drop" on input: every host's
# loss is its own, so one multicast DATA reaches some hosts and not
# others). 20,000 entries are added through all three hosts at once, a
# client in each host's namespace. Within BOUND seconds every host must
# have applied all of them; the logs are identical (read from each host's
# namespace), ids 1..20000 once each, the values exactly those sent, the
# digests equal. Prints the NACKs and retransmissions from the stats.
#
# Root only (otherwise SKIP, exit 77). It does not use lib.sh's unshare path:
# netlab makes its own namespaces, with a prefix of this test's own.

P=scloss$$
. tests/e2e/netlab_lib.sh

ENTRIES=${ENTRIES:-20000}
BOUND=${BOUND:-180}
LOSS=${LOSS:-10}
export NETLAB_NETEM=no     # this test is about nftables loss

json_num() { grep -o "\"$1\":[0-9]*" | head -1 | cut -d: -f2; }

echo "  (3 hosts in network namespaces $P-h0..h2 on a bridge; nftables loss $LOSS% on each host's input)"
UP=1
$NETLAB up 3 >"$T/up.out" 2>&1 || { cat "$T/up.out"; fail "netlab up 3 failed"; }
$NETLAB impair all loss=$LOSS% >"$T/impair.out" 2>&1 || { cat "$T/impair.out"; fail "netlab impair failed"; }
for i in 0 1 2; do
	$NETLAB exec h$i nft list table inet netlab_loss 2>/dev/null |
	    grep -q "numgen random mod 100 < $LOSS " || fail "h$i has no nftables loss rule"
done

start=$(date +%s)
per=$((ENTRIES / 3))
for i in 0 1 2; do
	n=$per
	[ $i -eq 2 ] && n=$((ENTRIES - 2 * per))
	$NETLAB seqcast h$i add --quiet --count $n --prefix "h$i" --timeout 60 &
	CLIENTS="$CLIENTS $!"
done
for p in $CLIENTS; do wait "$p" || fail "a client failed"; done
CLIENTS=""
for i in 0 1 2; do
	left=$((BOUND - ($(date +%s) - start)))
	[ $left -gt 0 ] || left=1
	$NETLAB seqcast h$i wait --applied "$ENTRIES" --timeout $left ||
	    fail "h$i did not apply $ENTRIES entries within $BOUND s"
done
took=$(($(date +%s) - start))
[ "$took" -le "$BOUND" ] || fail "took $took s, bound $BOUND s"

# Identical logs, ids 1..N once each, the values sent, equal digests.
seq 1 "$ENTRIES" >"$T/ids.expected"
for i in 0 1 2; do
	$NETLAB seqcast h$i log --timeout 60 >"$T/log$i" || fail "seqcast log from h$i failed"
	lines=$(wc -l <"$T/log$i")
	[ "$lines" -eq "$ENTRIES" ] || fail "h$i log has $lines lines, not $ENTRIES"
	cut -f1 "$T/log$i" | cmp -s - "$T/ids.expected" || fail "h$i ids are not 1..$ENTRIES in order"
	cmp -s "$T/log0" "$T/log$i" || fail "h$i log differs from h0's"
done
{
	for i in 0 1 2; do
		n=$per
		[ $i -eq 2 ] && n=$((ENTRIES - 2 * per))
		seq -f "h$i-%g" 1 $n
	done
} | sort >"$T/sent"
cut -f2 "$T/log0" | sort | cmp -s - "$T/sent" || fail "logged values differ from those sent"

nacks=0; retx=0; dropped=0; d0=""
for i in 0 1 2; do
	s=$($NETLAB seqcast h$i stats --timeout 30) || fail "no stats from h$i"
	d=$(echo "$s" | grep -o '"digest":"[0-9a-f]*"' | cut -d'"' -f4)
	[ -n "$d" ] || fail "no digest from h$i"
	[ -n "$d0" ] || d0=$d
	[ "$d" = "$d0" ] || fail "h$i digest $d differs from $d0"
	nacks=$((nacks + $(echo "$s" | json_num nacks_sent)))
	retx=$((retx + $(echo "$s" | json_num retransmissions)))
	drop=$($NETLAB exec h$i nft list table inet netlab_loss | grep -o 'packets [0-9]*' | awk '{print $2}')
	[ "${drop:-0}" -gt 0 ] || fail "nftables dropped nothing on h$i"
	dropped=$((dropped + drop))
	echo "  h$i: $(echo "$s" | json_num applied) applied, $drop datagrams dropped by nftables, $(echo "$s" | json_num nacks_sent) NACKs sent, $(echo "$s" | json_num retransmissions) retransmissions"
done
[ "$nacks" -gt 0 ] && [ "$retx" -gt 0 ] || fail "no NACK or retransmission recorded"
echo "  3 logs identical: $ENTRIES entries, ids 1..$ENTRIES once each, values as sent, digest $d0"
echo "  loss$LOSS (nftables): converged in $took s (bound $BOUND s): $dropped datagrams dropped, $nacks NACKs, $retx retransmissions"
