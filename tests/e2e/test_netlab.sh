# The lab itself: tools/netlab up 4 (four hosts, each a network namespace
# on a bridge in a namespace of its own, plus a client host), 10% loss on
# every host's input (tc netem where the kernel has sch_netem, nftables
# "numgen random" drop where it does not), 5,000 entries added through all
# four hosts at once (two clients in the client host crossing the lossy
# wire, two inside their hosts): every log identical. Then netlab down, and
# nothing may be left behind: no namespace, no link in the root namespace,
# no process. Also: netlab refuses a second "up", leaves a namespace that
# is not its own alone, and says it needs root when it is not.
#
# Root only (otherwise SKIP, exit 77); does not use lib.sh's unshare path.

P=sclab$$
. tests/e2e/netlab_lib.sh

ENTRIES=${ENTRIES:-5000}
BOUND=${BOUND:-120}
# the foreign namespace of the safety check
cleanup_more() { ip netns del "$P-h9" 2>/dev/null; }

# live (non-zombie) processes among the pids given
alive() {
	for p in "$@"; do
		st=$(ps -o stat= -p "$p" 2>/dev/null)
		case $st in '' | Z*) ;; *) echo "$p" ;; esac
	done
}

ip -o link show | awk -F': ' '{print $2}' | sort >"$T/links.before"

# Not root: a clear message and exit 1. This (root) shell opens the
# script for nobody's bash, so a checkout nobody cannot read is no reason
# to leave the check out; only a system without nobody or setpriv is, and
# then the test ends as skipped (exit 77), not passed, after the rest.
# To see it fail: make netlab's need_root() return at once for any uid.
not_checked=""
if id nobody >/dev/null 2>&1 && command -v setpriv >/dev/null 2>&1; then
	lab=$(pwd)/tools/netlab
	out=$(cd / && setpriv --reuid=nobody --regid="$(id -g nobody)" \
	    --clear-groups bash -s -- --prefix "$P" up 1 2>&1 <"$lab")
	rc=$?
	[ $rc -eq 1 ] && echo "$out" | grep -q "needs root" ||
	    fail "netlab as non-root: exit $rc, '$out' (want 1 and 'needs root')"
	echo "  as non-root: '$out'"
else
	not_checked="netlab's refusal to run as non-root (no user nobody or no setpriv here)"
fi

echo "  (netlab up 4: namespaces $P-h0..h3, $P-cl, bridge in $P-br)"
UP=1
$NETLAB up 4 >"$T/up.out" 2>&1 || { cat "$T/up.out"; fail "netlab up 4 failed"; }
for i in 0 1 2 3; do cat "$LABDIR/h$i.pid"; done >"$T/pids"
$NETLAB up 4 >"$T/up2.out" 2>&1 && fail "a second netlab up succeeded"
grep -q "already up" "$T/up2.out" || fail "second up: $(cat "$T/up2.out")"
echo "  second up refused: $(cat "$T/up2.out")"

$NETLAB impair all loss=10% >"$T/impair.out" 2>&1 || { cat "$T/impair.out"; fail "netlab impair failed"; }
how=$(grep -q nftables "$T/impair.out" && echo nftables || echo netem)
echo "  impair all loss=10% ($how)"

start=$(date +%s)
per=$((ENTRIES / 4))
$NETLAB seqcast cl add --quiet --server "$($NETLAB addr h0)" --count $per --prefix cl-h0 --timeout 60 &
CLIENTS="$CLIENTS $!"
$NETLAB seqcast cl add --quiet --server "$($NETLAB addr h1)" --count $per --prefix cl-h1 --timeout 60 &
CLIENTS="$CLIENTS $!"
$NETLAB seqcast h2 add --quiet --count $per --prefix h2 --timeout 60 &
CLIENTS="$CLIENTS $!"
$NETLAB seqcast h3 add --quiet --count $((ENTRIES - 3 * per)) --prefix h3 --timeout 60 &
CLIENTS="$CLIENTS $!"
for p in $CLIENTS; do wait "$p" || fail "a client failed"; done
CLIENTS=""
for i in 0 1 2 3; do
	$NETLAB seqcast h$i wait --applied "$ENTRIES" --timeout "$BOUND" ||
	    fail "h$i did not apply $ENTRIES entries in $BOUND s"
done
took=$(($(date +%s) - start))

seq 1 "$ENTRIES" >"$T/ids.expected"
nacks=0; retx=0
for i in 0 1 2 3; do
	$NETLAB seqcast h$i log --timeout 60 >"$T/log$i" || fail "seqcast log from h$i failed"
	[ "$(wc -l <"$T/log$i")" -eq "$ENTRIES" ] || fail "h$i log has $(wc -l <"$T/log$i") lines"
	cut -f1 "$T/log$i" | cmp -s - "$T/ids.expected" || fail "h$i ids are not 1..$ENTRIES"
	cmp -s "$T/log0" "$T/log$i" || fail "h$i log differs from h0's"
	s=$($NETLAB seqcast h$i stats --timeout 30)
	nacks=$((nacks + $(echo "$s" | grep -o '"nacks_sent":[0-9]*' | cut -d: -f2)))
	retx=$((retx + $(echo "$s" | grep -o '"retransmissions":[0-9]*' | cut -d: -f2)))
done
{ seq -f cl-h0-%g 1 $per; seq -f cl-h1-%g 1 $per; seq -f h2-%g 1 $per
  seq -f h3-%g 1 $((ENTRIES - 3 * per)); } | sort >"$T/sent"
cut -f2 "$T/log0" | sort | cmp -s - "$T/sent" || fail "logged values differ from those sent"
[ "$nacks" -gt 0 ] || fail "10% loss but no NACK"
echo "  4 logs identical: $ENTRIES entries in $took s under 10% loss ($how): $nacks NACKs, $retx retransmissions"

# A namespace named like the lab's but not made by it is left alone.
ip netns add "$P-h9" || fail "cannot add the foreign namespace"

$NETLAB down >"$T/down.out" 2>&1 || { cat "$T/down.out"; fail "netlab down failed"; }
UP=""
grep -q "not this lab's" "$T/down.out" || fail "down did not report the foreign namespace: $(cat "$T/down.out")"
ip netns list | awk '{print $1}' | grep -qx "$P-h9" || fail "netlab down deleted a namespace not its own"
$NETLAB up 1 >"$T/up3.out" 2>&1 && { $NETLAB down >/dev/null; ip netns del "$P-h9"; fail "up ran beside a foreign namespace"; }
grep -q "not made by netlab" "$T/up3.out" || fail "up beside a foreign namespace: $(cat "$T/up3.out")"
echo "  foreign namespace $P-h9 left alone by down, refused by up"
ip netns del "$P-h9"

# Nothing left behind (processes get up to 5 s to be reaped).
left=$(ip netns list | awk '{print $1}' | grep "^$P-")
[ -z "$left" ] || fail "namespaces left: $left"
ip -o link show | awk -F': ' '{print $2}' | sort >"$T/links.after"
cmp -s "$T/links.before" "$T/links.after" ||
    fail "root namespace links changed: $(diff "$T/links.before" "$T/links.after" | tr '\n' ' ')"
n=0
while [ -n "$(alive $(cat "$T/pids"))" ] && [ $n -lt 50 ]; do sleep 0.1; n=$((n + 1)); done
[ -z "$(alive $(cat "$T/pids"))" ] || fail "daemons still running: $(alive $(cat "$T/pids"))"
for d in /proc/[0-9]*; do
	c=$(tr '\0' ' ' <"$d/cmdline" 2>/dev/null)
	case $c in *"seqcastd --config $LABDIR/"*) fail "process left: ${d#/proc/} $c" ;; esac
done
[ ! -e "$LABDIR" ] || fail "lab dir $LABDIR left"
echo "  netlab down: no namespace, no root-namespace link, no process, no lab dir left"
[ -z "$not_checked" ] || skip "not checked: $not_checked; everything else passed"
