#!/bin/sh
# check.sh BUILD seeds|mutations - the simulator's part of `make check`.
#
#   seeds      BUILD/sim over SIM_SEEDS seeds of 3-server clusters and
#              as many of 5-server and of 2-server ones (default 2000;
#              300 under the sanitizers): every invariant holds on every
#              seed.
#   mutations  each rule broken on purpose (build/mut, -DSC_MUTATIONS)
#              must make a seed fail within MUT_SEEDS seeds, or, for the
#              rules honest peers never exercise, a directed test in
#              build/mut/tests/test_node fail: a safety check that cannot
#              fail is not a check.
BUILD=${1:-build}
WHAT=${2:-seeds}
if [ -n "$SEQCAST_SANITIZED" ]; then
	SIM_SEEDS=${SIM_SEEDS:-300}
	MUT_SEEDS=${MUT_SEEDS:-2000}
else
	SIM_SEEDS=${SIM_SEEDS:-2000}
	MUT_SEEDS=${MUT_SEEDS:-4000}
fi
# The rules only test_node's directed datagrams can reach.
DIRECTED="stamped-unchecked old-view fresh-dvc"
# The rules the simulator must catch on its own.
SIMULATED="apply-early reuse-id ack-undurable drop-nack-range disk-ignore
tail-by-heartbeat ack-no-majority skip-completion old-view amp-unbounded"

case $WHAT in
seeds)
	out=$("$BUILD/sim" --seeds "$SIM_SEEDS" --jobs 2) || {
		echo "$out"; exit 1; }
	echo "  $out"
	out=$("$BUILD/sim" --seeds "$SIM_SEEDS" --first 1000001 \
	    --servers 5 --jobs 2) || { echo "$out"; exit 1; }
	echo "  5 servers: $out"
	out=$("$BUILD/sim" --seeds "$SIM_SEEDS" --first 2000001 \
	    --servers 2 --jobs 2) || { echo "$out"; exit 1; }
	echo "  2 servers: $out"
	;;
mutations)
	rc=0
	for r in $SIMULATED; do
		out=$("$BUILD/sim-mut" --mutate "$r" --expect-fail \
		    --seeds "$MUT_SEEDS" --jobs 2 | tail -1)
		if [ $? -ne 0 ]; then
			echo "FAIL: $out"
			rc=1
		else
			echo "  $out"
		fi
	done
	for r in $DIRECTED; do
		if SEQCAST_MUTATE=$r "$BUILD/mut/tests/test_node" \
		    >/tmp/seqcast-mut.$$ 2>&1; then
			echo "FAIL: rule '$r' broken and test_node still passes"
			rc=1
		else
			echo "  test_node: rule '$r' broken:" \
			    "$(sed -n 's/^\[  FAILED  \] \(test_.*\)/\1/p' \
			    /tmp/seqcast-mut.$$ | sort -u | tr '\n' ' ')" \
			    "fails, as it must"
		fi
		rm -f /tmp/seqcast-mut.$$
	done
	exit $rc
	;;
*)
	echo "usage: check.sh BUILD seeds|mutations" >&2
	exit 2
	;;
esac
