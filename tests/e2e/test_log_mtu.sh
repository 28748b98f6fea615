# Every datagram fits the path (issue 14): `seqcast log` of 200,000
# entries from a server across a 1500-byte-MTU link (tools/netlab: the
# server in host h0, the client in host cl, veth pairs on a bridge), at
# 0% and at 10% loss (nftables on the input of both hosts), prints
# exactly the log, and no datagram over 1500 bytes (no IP fragment
# either) crosses the link: dumpcap on cl's eth0 sees every packet,
# the dropped ones too (it taps before nftables). Prints how long each
# took, beside the same log read inside h0 (loopback path, pages sized
# for eth0) and from a server of a loopback-only cluster (64 KiB pages).
#
# Root only (netlab), and dumpcap/tshark; otherwise SKIP (exit 77).

P=sclmtu$$
. tests/e2e/netlab_lib.sh

command -v dumpcap >/dev/null 2>&1 && command -v tshark >/dev/null 2>&1 ||
    skip "no dumpcap/tshark (tools/install-deps installs tshark)"
ENTRIES=${ENTRIES:-200000}
LOSS=${LOSS:-10}
export NETLAB_NETEM=no
SERVER=10.99.0.10:4300
LO_PID=""

cleanup_more() {
	[ -n "$LO_PID" ] && kill "$LO_PID" 2>/dev/null
}

secs() { date +%s.%N; }
took() { echo "$1 $2" | awk '{ printf "%.2f", $2 - $1 }'; }

echo "  (netlab: server h0 $SERVER, client cl 10.99.0.9, each on a veth into the lab bridge)"
UP=1
$NETLAB up 1 >"$T/up.out" 2>&1 || { cat "$T/up.out"; fail "netlab up 1 failed"; }
mtu=$($NETLAB exec cl cat /sys/class/net/eth0/mtu)
[ "$mtu" = 1500 ] || fail "cl's eth0 has MTU $mtu, not 1500"
$NETLAB seqcast h0 add --quiet --count "$ENTRIES" --prefix "e" --window 1024 \
    --timeout 60 || fail "adding $ENTRIES entries failed"
$NETLAB seqcast h0 wait --applied "$ENTRIES" --timeout 60 || fail "h0 did not apply them"

t0=$(secs)
$NETLAB seqcast h0 log --timeout 60 >"$T/ref" || fail "log inside h0 failed"
inside=$(took "$t0" "$(secs)")
[ "$(wc -l <"$T/ref")" -eq "$ENTRIES" ] || fail "h0's log has $(wc -l <"$T/ref") lines"
awk -v n="$ENTRIES" 'BEGIN { for (i = 1; i <= n; i++) printf "%d\te-%d\n", i, i }' |
    cmp -s - "$T/ref" ||
    fail "h0's log is not ids 1..$ENTRIES with their values"

# log_over LOSS: read the log from cl, capturing cl's eth0
log_over() {
	loss=$1
	if [ "$loss" -gt 0 ]; then
		for h in h0 cl; do
			$NETLAB impair $h loss=$loss% >/dev/null || fail "impair $h"
		done
	fi
	cap=$T/cap.$loss.pcapng
	$NETLAB exec cl dumpcap -q -i eth0 -f ip -w "$cap" 2>"$T/dumpcap.err" &
	CLIENTS="$CLIENTS $!"
	dpid=$!
	i=0
	while [ ! -s "$cap" ] && [ $i -lt 50 ]; do sleep 0.1; i=$((i + 1)); done
	t0=$(secs)
	$NETLAB seqcast cl log --server "$SERVER" --timeout 60 >"$T/out.$loss" ||
	    fail "log over the link at $loss% loss failed"
	t=$(took "$t0" "$(secs)")
	sleep 0.3
	kill -INT $dpid
	wait $dpid 2>/dev/null
	cmp -s "$T/out.$loss" "$T/ref" ||
	    fail "log over the link at $loss% loss differs from the log ($(wc -l <"$T/out.$loss") lines)"
	big=$(tshark -r "$cap" -Y 'ip.len > 1500 or ip.flags.mf == 1 or ip.frag_offset > 0' 2>/dev/null | wc -l)
	tshark -r "$cap" -Y udp -T fields -e ip.src -e ip.dst -e ip.len \
	    2>/dev/null >"$T/udp.$loss"
	n=$(wc -l <"$T/udp.$loss")
	replies=$(awk '$1 == "10.99.0.10" && $2 == "10.99.0.9"' "$T/udp.$loss" | wc -l)
	asks=$(awk '$1 == "10.99.0.9"' "$T/udp.$loss" | wc -l)
	max=$(cut -f3 "$T/udp.$loss" | sort -n | tail -1)
	[ "$replies" -gt 100 ] || fail "the capture at $loss% loss holds only $replies replies"
	[ "$big" -eq 0 ] || fail "$big packets over 1500 bytes or fragments crossed the link"
	dropped=0
	if [ "$loss" -gt 0 ]; then
		for h in h0 cl; do
			d=$($NETLAB exec $h nft list table inet netlab_loss | grep -o 'packets [0-9]*' | awk '{print $2}')
			dropped=$((dropped + ${d:-0}))
			$NETLAB impair $h clear >/dev/null
		done
		[ "$dropped" -gt 0 ] || fail "nftables dropped nothing"
	fi
	echo "  over the link, $loss% loss: $ENTRIES entries in $t s; $n datagrams captured ($asks requests, $replies replies, the rest the group's), largest IP packet $max bytes, none over 1500, no fragment; nftables dropped $dropped"
}

log_over 0
log_over "$LOSS"

# The same log on loopback: a one-server cluster of its own on lo in h0
# (the interface's MTU, 65536: pages of up to 64 KiB).
cat >"$T/lo.conf" <<EOF
[cluster]
id = 7
group = 239.255.77.7:4399
interface = 127.0.0.1
[server 0]
listen = 127.0.0.1:4400
EOF
$NETLAB exec h0 "$BUILD/seqcastd" --config "$T/lo.conf" --id 0 2>"$T/lo.log" &
LO_PID=$!
$NETLAB exec h0 "$BUILD/seqcast" wait --server 127.0.0.1:4400 --applied 0 --timeout 10 ||
    fail "the loopback server did not start: $(cat "$T/lo.log")"
$NETLAB exec h0 "$BUILD/seqcast" add --server 127.0.0.1:4400 --quiet --count "$ENTRIES" \
    --prefix e --window 1024 --timeout 60 || fail "adding to the loopback server"
$NETLAB exec h0 "$BUILD/seqcast" wait --server 127.0.0.1:4400 --applied "$ENTRIES" --timeout 60 ||
    fail "the loopback server did not apply them"
t0=$(secs)
$NETLAB exec h0 "$BUILD/seqcast" log --server 127.0.0.1:4400 --timeout 60 >"$T/lo.out" ||
    fail "log on loopback failed"
lo=$(took "$t0" "$(secs)")
cmp -s "$T/lo.out" "$T/ref" || fail "the loopback log differs"
echo "  inside h0 (loopback path, pages for eth0's 1500): $inside s; a loopback-only server (64 KiB pages): $lo s"
