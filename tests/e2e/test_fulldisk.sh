# A full disk at the coordinator, on real daemons (root: a 600 KiB tmpfs
# in a mount namespace of the test's own as server 0's data_dir; fsync =
# each). Under a stream of adds the coordinator's log write fails with
# ENOSPC: it announces nothing it could not write, falls silent, and the
# others elect a coordinator whose disk works; the client finishes, every
# entry it got an ACK for is on both other servers once, with its acked
# id. Then the disk grows (remount): server 0 writes again, rejoins as a
# member and catches up: three identical logs.
# To see it fail: make fail() in daemon/node_durable.c return at once and
# node_disk_append() go on after a failed write (the simulator's rule
# disk-ignore): server 0 stays coordinator with a log it cannot hold and
# the client gets no ACK for 30 s.
if [ "$(id -u)" != 0 ] || ! command -v unshare >/dev/null 2>&1; then
	echo "  skipped: needs root (a tmpfs in a mount namespace)"
	exit 77
fi
if [ -z "$SEQCAST_IN_MNTNS" ]; then
	export SEQCAST_IN_MNTNS=1
	unshare -m true 2>/dev/null || { echo "  skipped: no mount namespace"; exit 77; }
	exec unshare -m sh "$0" "$@"
fi
. tests/e2e/lib.sh

mkdir -p "$T/d0" "$T/d1" "$T/d2"
mount -t tmpfs -o size=600k tmpfs "$T/d0" || fail "cannot mount a tmpfs"
trap 'for p in $PIDS; do kill "$p" 2>/dev/null; done
for p in $PIDS; do wait "$p" 2>/dev/null; done
umount "$T/d0" 2>/dev/null; cleanup' EXIT
write_conf 3 fsync=each
awk -v t="$T" '{ print } /^\[server [0-9]+\]$/ {
	sub(/^\[server /, ""); sub(/\]$/, ""); print "data_dir = " t "/d" $0 }' \
    "$T/cluster.conf" >"$T/c" && mv "$T/c" "$T/cluster.conf"
grep -q "^data_dir = $T/d2" "$T/cluster.conf" || fail "cluster file: $(cat "$T/cluster.conf")"
start_cluster

n=30000
"$SEQCAST" add --server "$(addr 1),$(addr 2)" --count $n --prefix full \
    --value-size 64 --timeout 30 >"$T/acks" 2>"$T/add.err" ||
    fail "the client failed: $(tail -1 "$T/add.err")"
[ "$(wc -l <"$T/acks")" -eq $n ] || fail "$(wc -l <"$T/acks") of $n acked"
grep -q "cannot write the log: No space left on device" "$T/server0.log" ||
    fail "server 0 did not say its disk is full"
failures=$("$SEQCAST" stats --timeout 10 --server "$(addr 0)" |
    grep -o '"failures":[0-9]*' | cut -d: -f2)
[ "${failures:-0}" -gt 0 ] || fail "server 0 counted no disk failure"
coord=$("$SEQCAST" stats --timeout 10 --server "$(addr 1)" | json_num coordinator)
[ "$coord" != 0 ] || fail "server 0 still coordinates with a full disk"
applied0=$(stat 0 applied)
echo "  disk full at server 0 after entry $applied0 (disk failures $failures);" \
    "server $coord coordinates now; the client got all $n ACKs"
wait_all $n 30 1 2
check_logs $n 1 2
acked_kept 1 "$T/acks"

# The disk grows: server 0 writes again and catches up.
mount -o remount,size=64m "$T/d0" || fail "cannot grow the tmpfs"
wait_all $n 30 0
check_logs $n
echo "  disk grown: server 0 wrote again and caught up; every acked entry" \
    "once with its acked id"
