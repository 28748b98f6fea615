# Nothing lost: three servers, 20,000 entries added through all of them at
# once, under injected receive loss of 1%, 10%, 30% and 50% on every server
# (every message type), then 20% duplication plus 20% reordering. Each run
# must end with identical logs, ids 1..20000 once each, the values sent,
# equal digests, within BOUND seconds; the stats show the repair work.
. tests/e2e/lib.sh

ENTRIES=${ENTRIES:-20000}
BOUND=${BOUND:-120}

# run NAME fault-keys...
run() {
	name=$1
	shift
	write_conf 3 fault_seed=$$ "$@"
	: >"$T/server0.log"
	start_cluster
	start=$(date +%s)
	per=$((ENTRIES / 3))
	CLIENTS=""
	for i in 0 1 2; do
		n=$per
		[ $i -eq 2 ] && n=$((ENTRIES - 2 * per))
		"$SEQCAST" add --quiet --server "$(addr $i)" --count $n \
		    --prefix "$name-s$i" --timeout 60 --window 1024 &
		CLIENTS="$CLIENTS $!"
	done
	for p in $CLIENTS; do wait "$p" || fail "$name: a client failed"; done
	wait_all "$ENTRIES" "$BOUND"
	took=$(($(date +%s) - start))
	[ "$took" -le "$BOUND" ] || fail "$name: took $took s, bound $BOUND s"
	check_logs "$ENTRIES"
	{
		for i in 0 1 2; do
			n=$per
			[ $i -eq 2 ] && n=$((ENTRIES - 2 * per))
			seq -f "$name-s$i-%g" 1 $n
		done
	} | sort >"$T/sent"
	cut -f2 "$T/log0" | sort | cmp -s - "$T/sent" ||
	    fail "$name: logged values differ from those sent"
	nacks=0; retx=0; dups=0; inj=0
	for i in 0 1 2; do
		s=$("$SEQCAST" stats --timeout 60 --server "$(addr $i)")
		nacks=$((nacks + $(echo "$s" | json_num nacks_sent)))
		retx=$((retx + $(echo "$s" | json_num retransmissions)))
		dups=$((dups + $(echo "$s" | json_num duplicates_dropped)))
		inj=$((inj + $(echo "$s" | json_num dropped) + $(echo "$s" | json_num duplicated) + $(echo "$s" | json_num reordered)))
	done
	echo "  $name: $ENTRIES entries converged in $took s (bound $BOUND s): $inj faults injected, $nacks NACKs, $retx retransmissions, $dups duplicates dropped"
	if [ "$name" != perfect ]; then
		[ "$inj" -gt 0 ] || fail "$name: no fault was injected"
		# At 1% a run may lose no DATA at all (only ADDs, FWDs,
		# REPORTs): no NACK is then owed.
		[ "$nacks" -gt 0 ] && [ "$retx" -gt 0 ] ||
		    [ "$name" = dup-reorder ] || [ "$name" = loss1 ] ||
		    fail "$name: no NACK or retransmission recorded"
	fi
	for p in $PIDS; do kill "$p"; wait "$p"; done
	PIDS=""
}

run loss1 fault_in_drop=1%
run loss10 fault_in_drop=10%
run loss30 fault_in_drop=30%
run loss50 fault_in_drop=50%
run dup-reorder fault_in_dup=20% fault_in_reorder=20%
