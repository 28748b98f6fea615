# netlab_skip.sh - sourced by the tests that run on tools/netlab: they
# need root, `ip netns` and nftables, and skip (exit 0) with a message
# otherwise. They never use lib.sh's unshare path: netlab makes its own
# namespaces.

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
