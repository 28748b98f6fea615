# netlab_lib.sh - sourced by the tests that run on tools/netlab (they set
# P, the prefix of their namespaces, first). They need root, `ip netns`
# and nftables, and skip (exit 0) with a message otherwise. They never use
# lib.sh's unshare path: netlab makes its own namespaces.
#
# Sets BUILD, LABDIR, NETLAB (the netlab command for prefix P) and T (a
# work folder); CLIENTS (pids to stop) and UP (set once netlab is up) are
# the test's to fill. On exit: clients stopped, netlab down, cleanup_more
# (a hook, empty here), T removed unless KEEP. fail MSG prints the hosts'
# logs and exits 1.

if [ "$(id -u)" != 0 ]; then
	echo "  skipped: needs root (network namespaces, nftables)"
	exit 0
fi
if ! ip netns list >/dev/null 2>&1; then
	echo "  skipped: 'ip netns' does not work here"
	exit 0
fi
if ! command -v nft >/dev/null 2>&1; then
	echo "  skipped: no nft (nftables; tools/install-deps installs it)"
	exit 0
fi

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
