# netlab_lib.sh - sourced by the tests that run on tools/netlab (they set
# P, the prefix of their namespaces, first). They need root, `ip netns`
# and nftables; without them they print "SKIP: why" and exit 77, which
# tools/run-tests reports as skipped (never as passed; a failure under
# --no-skip, as in CI). They never use lib.sh's unshare path: netlab makes
# its own namespaces.
#
# Sets BUILD, LABDIR, NETLAB (the netlab command for prefix P) and T (a
# work folder); CLIENTS (pids to stop) and UP (set once netlab is up) are
# the test's to fill. On exit: clients stopped, netlab down, cleanup_more
# (a hook, empty here), T removed unless KEEP. fail MSG prints the hosts'
# logs and exits 1.

skip() {
	echo "SKIP: $*"
	exit 77
}

[ "$(id -u)" = 0 ] || skip "needs root (network namespaces, nftables)"
ip netns list >/dev/null 2>&1 || skip "'ip netns' does not work here"
unshare -n true 2>/dev/null ||
    skip "cannot make a network namespace here (unshare -n fails)"
command -v nft >/dev/null 2>&1 ||
    skip "no nft (nftables; tools/install-deps installs it)"

BUILD=${BUILD:-build}
LABDIR=${TMPDIR:-/tmp}/$P
NETLAB="tools/netlab --prefix $P --dir $LABDIR"
T=$(mktemp -d "${TMPDIR:-/tmp}/seqcast-e2e.XXXXXX")
export BUILD
CLIENTS=""
UP=""

cleanup_more() { :; }

cleanup() {
	for p in $CLIENTS; do kill "$p" 2>/dev/null; done
	for p in $CLIENTS; do wait "$p" 2>/dev/null; done
	[ -n "$UP" ] && $NETLAB down >/dev/null
	cleanup_more
	[ -n "$KEEP" ] || rm -rf "$T"
}
trap cleanup EXIT
trap 'exit 1' INT TERM HUP

fail() {
	echo "FAIL: $*"
	for f in "$LABDIR"/h*.log; do
		[ -f "$f" ] && { echo "--- $f"; tail -20 "$f"; }
	done
	exit 1
}
