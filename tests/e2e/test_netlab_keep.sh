# KEEP=1 tools/netlab down keeps the lab's cluster file and logs, and the
# next "netlab up" works (it used to be refused: the kept state file said
# a lab was up) and starts fresh logs; a plain "down" then removes it all.
#
# Root only, with `ip netns` (skips, exit 77, otherwise); netlab makes its
# own namespaces, under a prefix of this test's own.

skip() { echo "  skipped: $*"; exit 77; }
[ "$(id -u)" = 0 ] || skip "needs root (network namespaces)"
ip netns list >/dev/null 2>&1 || skip "'ip netns' does not work here"
command -v nft >/dev/null 2>&1 || skip "no nft (nftables; tools/install-deps installs it)"

P=sclabk$$
. tests/e2e/netlab_lib.sh

UP=1
$NETLAB up 1 >"$T/up1.out" 2>&1 || { cat "$T/up1.out"; fail "netlab up 1 failed"; }
$NETLAB seqcast h0 add "first lab" >/dev/null || fail "add in the first lab failed"
KEEP=1 $NETLAB down >"$T/down1.out" 2>&1 || { cat "$T/down1.out"; fail "KEEP=1 netlab down failed"; }
UP=""
grep -q "kept $LABDIR" "$T/down1.out" || fail "KEEP=1 down did not say it kept $LABDIR: $(cat "$T/down1.out")"
[ -f "$LABDIR/cluster.conf" ] && [ -f "$LABDIR/h0.log" ] ||
    fail "KEEP=1 down did not keep cluster.conf and h0.log: $(ls -A "$LABDIR" 2>&1)"
grep -q "stopped: applied 1 entries" "$LABDIR/h0.log" ||
    fail "the kept log is not the first lab's: $(cat "$LABDIR/h0.log")"
[ ! -e "$LABDIR/state" ] || fail "KEEP=1 down left $LABDIR/state"
left=$(ip netns list | awk '{print $1}' | grep "^$P-")
[ -z "$left" ] || fail "KEEP=1 down left namespaces: $left"
echo "  KEEP=1 down: kept $(ls "$LABDIR" | tr '\n' ' '), no namespace, no state"

UP=1
$NETLAB up 1 >"$T/up2.out" 2>&1 || { cat "$T/up2.out"; fail "netlab up after KEEP=1 down failed"; }
grep -q "logs of a lab taken down with KEEP" "$T/up2.out" ||
    fail "up did not say it replaced the kept logs: $(cat "$T/up2.out")"
grep -q "applied 1 entries" "$LABDIR/h0.log" && fail "the new lab's h0.log still holds the first lab's"
[ "$($NETLAB seqcast h0 stats | grep -o '"applied":[0-9]*')" = '"applied":0' ] ||
    fail "the second lab is not a new one"
echo "  up after KEEP=1 down: a new lab, fresh logs ($(grep -m1 'logs of a lab' "$T/up2.out"))"

$NETLAB down >"$T/down2.out" 2>&1 || { cat "$T/down2.out"; fail "netlab down failed"; }
UP=""
[ ! -e "$LABDIR" ] || fail "down left $LABDIR"
left=$(ip netns list | awk '{print $1}' | grep "^$P-")
[ -z "$left" ] || fail "down left namespaces: $left"
echo "  down: no lab folder, no namespace left"
