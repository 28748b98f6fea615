# The Wireshark dissector tools/seqcast.lua against the daemon's own
# counters.
#
# 1. Every datagram of the wire fuzz corpus (every message type, little-
#    and big-endian tpl images) decodes as its type, nothing malformed.
# 2. In a fresh network namespace, dumpcap records lo while a keyed
#    3-server cluster takes 303 entries through all three servers and
#    answers log and stats requests; then the capture is decoded with
#    tshark -X lua_script:tools/seqcast.lua and compared with the servers'
#    final `seqcast stats`:
#    - every UDP datagram in the capture is seqcast, none is malformed,
#      each carries its MAC trailer;
#    - per server and per message type, the datagrams the capture shows
#      from that server before the STATS_REPLY that carried its final
#      counters equal its "out" counter exactly (a multicast DATA is one
#      datagram on the wire and one "out" at the coordinator; the
#      receivers' "in" counts it once each, so "in" is compared only for
#      what clients send: ADD, LOG_REQ, STATS_REQ to that server);
#    - the DATA datagrams hold ids 1..303 once each, and their decoded
#      values are those of the servers' log.
#
# Needs root (a network namespace, capturing), tshark, dumpcap and
# text2pcap; skips (exit 77) without them.

skip() { echo "  skipped: $*"; exit 77; }
for c in tshark dumpcap text2pcap; do
	command -v $c >/dev/null 2>&1 ||
	    skip "no $c (Debian packages tshark, wireshark-common; tools/install-deps)"
done
[ "$(id -u)" = 0 ] || skip "needs root (a network namespace of its own, capturing on its lo)"

. tests/e2e/lib.sh
[ -n "$SEQCAST_IN_NETNS" ] || skip "no network namespace (unshare -n failed): will not capture on the host's lo"

LUA=tools/seqcast.lua
# try_heuristic_first: ephemeral client ports may belong to another
# dissector; the heuristic must see every datagram.
TSHARK="tshark -n -X lua_script:$LUA -o udp.try_heuristic_first:TRUE"
NAMES="add fwd data retx ack stamped heartbeat nack report gone log_req log_reply stats_req stats_reply"
type_no() {	# name -> number (enum sc_type order)
	k=1
	for n in $NAMES; do
		[ "$n" = "$1" ] && { echo $k; return; }
		k=$((k + 1))
	done
}

# ---- 1. the corpus: one datagram of every type, both endiannesses
n=0
for f in tests/fuzz/corpus/wire/valid-*; do
	od -Ax -tx1 -v "$f"
	n=$((n + 1))
done >"$T/corpus.hex"
text2pcap -q -4 127.0.0.1,127.0.0.1 -u 40000,4300 "$T/corpus.hex" "$T/corpus.pcap" \
    2>"$T/text2pcap.err" || fail "text2pcap failed: $(cat "$T/text2pcap.err")"
$TSHARK -r "$T/corpus.pcap" -T fields -e seqcast.type -e seqcast.tpl.format \
    >"$T/corpus.out" 2>"$T/corpus.err" || fail "tshark on the corpus: $(cat "$T/corpus.err")"
[ "$(grep -c . "$T/corpus.out")" -eq "$n" ] || fail "corpus: $n datagrams, $(grep -c . "$T/corpus.out") decoded"
k=0
for f in tests/fuzz/corpus/wire/valid-*; do
	k=$((k + 1))
	name=${f##*valid-}
	name=${name#be-}
	got=$(sed -n "${k}p" "$T/corpus.out" | cut -f1)
	[ "$got" = "$(type_no "$name")" ] || fail "corpus $f decoded as type '$got'"
done
bad=$($TSHARK -r "$T/corpus.pcap" -Y 'seqcast.malformed || seqcast.format_mismatch || seqcast.unknown_type || _ws.malformed || _ws.lua.error' 2>/dev/null | wc -l)
[ "$bad" -eq 0 ] || fail "corpus: $bad datagrams malformed or unreadable to the dissector"
echo "  corpus: $n datagrams of every type decoded (little- and big-endian tpl)"

# ---- 2. a live cluster, captured on lo
ENTRIES=303
"$SEQCASTD" --gen-key "$T/key" >/dev/null || fail "gen-key failed"
KEYOPT="--key-file $T/key"
write_conf 3 "key_file = $T/key"

dumpcap -q -i lo -f udp -w "$T/cap.pcapng" 2>"$T/dumpcap.err" &
DUMPCAP=$!
trap 'kill $DUMPCAP 2>/dev/null; cleanup' EXIT
n=0
until grep -q "Capturing on" "$T/dumpcap.err" 2>/dev/null && [ -s "$T/cap.pcapng" ]; do
	n=$((n + 1))
	[ $n -lt 100 ] || { kill $DUMPCAP; fail "dumpcap did not start: $(cat "$T/dumpcap.err")"; }
	kill -0 $DUMPCAP 2>/dev/null || fail "dumpcap failed: $(cat "$T/dumpcap.err")"
	sleep 0.1
done
sleep 0.5

start_cluster
for i in 0 1 2; do
	$SEQCAST $KEYOPT stats --server "$(addr $i)" >"$T/start$i.json" ||
	    fail "stats from server $i failed"
done
CLIENTS=""
for i in 0 1 2; do
	$SEQCAST $KEYOPT add --server "$(addr $i)" "hello through server $i" >/dev/null ||
	    fail "add through server $i failed"
done
$SEQCAST $KEYOPT add --quiet --window 8 --server "$(addr 1)" --count 150 --prefix one &
CLIENTS="$CLIENTS $!"
$SEQCAST $KEYOPT add --quiet --window 8 --server "$(addr 2)" --count 100 --prefix two &
CLIENTS="$CLIENTS $!"
$SEQCAST $KEYOPT add --quiet --window 8 --server "$(addr 0)" --count 50 --prefix zero &
CLIENTS="$CLIENTS $!"
for p in $CLIENTS; do wait "$p" || fail "a client failed"; done
wait_all $ENTRIES 30
check_logs $ENTRIES
for i in 0 1 2; do
	$SEQCAST $KEYOPT stats --server "$(addr $i)" >"$T/stats$i.json" ||
	    fail "stats from server $i failed"
done

# Stop the servers, then the capture. On this kernel (6.18) libpcap's
# TPACKET_V3 ring hands over a block only once it is full (its retire
# timer does not fire), so a capture stopped now would lose the last
# block, or everything: fill it with junk to port 9 (discard; random
# bytes, left out of the counts below) before stopping.
for p in $PIDS; do kill "$p" 2>/dev/null; done
for p in $PIDS; do wait "$p" 2>/dev/null; done
PIDS=""
$NOISE --to 127.0.0.1:9 --kind random --count 600 --seconds 10 >/dev/null ||
    fail "seqcast-noise (the capture's filler) failed"
sleep 0.5
kill -INT $DUMPCAP
wait $DUMPCAP
grep -q "dropped on interface '.*': [0-9]*/0 " "$T/dumpcap.err" ||
    fail "dumpcap dropped datagrams: $(grep dropped "$T/dumpcap.err")"

$TSHARK -r "$T/cap.pcapng" -Y seqcast -T fields -E separator=/t -e frame.number \
    -e seqcast.sender -e seqcast.type -e udp.dstport -e seqcast.flags.mac \
    -e seqcast.mac.counter >"$T/frames" 2>"$T/tshark.err" ||
    fail "tshark on the capture: $(cat "$T/tshark.err")"
udp=$(tshark -n -r "$T/cap.pcapng" -Y 'udp && !icmp && udp.dstport != 9' 2>/dev/null | wc -l)
last=$(tail -1 "$T/frames" | cut -f1)
filler=$(tshark -n -r "$T/cap.pcapng" -Y "udp.dstport == 9 && !icmp && frame.number > $last" 2>/dev/null | wc -l)
[ "$filler" -gt 0 ] || fail "the capture ends before the filler: its last datagrams may be lost"
total=$(wc -l <"$T/frames")
[ "$total" -gt 0 ] || fail "no seqcast datagram in the capture"
[ "$total" -eq "$udp" ] || fail "$udp UDP datagrams captured, $total decoded as seqcast"
bad=$($TSHARK -r "$T/cap.pcapng" -Y 'seqcast.malformed || seqcast.format_mismatch || seqcast.unknown_type || seqcast.trailer || _ws.malformed || _ws.lua.error' 2>/dev/null | wc -l)
[ "$bad" -eq 0 ] || fail "$bad captured datagrams malformed or unreadable to the dissector"
nomac=$(awk -F'\t' '$5 != "1" || $6 == ""' "$T/frames" | wc -l)
[ "$nomac" -eq 0 ] || fail "$nomac captured datagrams without a MAC trailer"
echo "  capture: $total datagrams, all decoded as seqcast with a MAC trailer, none malformed"

# The frame that carried a stats reply: the one whose JSON is what
# seqcast stats printed (the counters grow, so each JSON is unique).
$TSHARK -r "$T/cap.pcapng" -Y 'seqcast.type == 14' -T fields -E separator=/t \
    -e frame.number -e seqcast.sender -e seqcast.json >"$T/replies" 2>/dev/null
cut -f3- "$T/replies" >"$T/replies.json"
reply_frame() {	# reply_frame SERVER FILE
	k=$(grep -nxF -f "$2" "$T/replies.json" | cut -d: -f1)
	[ "$(echo "$k" | grep -c .)" -eq 1 ] ||
	    fail "server $1: no single captured STATS_REPLY carries $2 ('$k')"
	sed -n "${k}p" "$T/replies" | awk -F'\t' -v s="$1" '$2 == s { print $1 }'
}
counts() {	# counts in|out FILE: "name number" lines of that object
	grep -o "\"$1\":{[^}]*}" "$2" | head -1 | sed 's/^[^{]*{//; s/}$//' |
	    tr ',' '\n' | tr -d '"' | tr ':' ' '
}
for i in 0 1 2; do
	first=$(reply_frame $i "$T/start$i.json")
	final=$(reply_frame $i "$T/stats$i.json")
	[ -n "$first" ] && [ -n "$final" ] || fail "server $i: its stats replies are not in the capture"
	# Everything server i sent until its final counters: "out" exactly.
	counts out "$T/stats$i.json" >"$T/out$i"
	[ "$(grep -c . "$T/out$i")" -eq 14 ] ||
	    fail "server $i: stats 'out' has not the 14 types: $(cat "$T/out$i")"
	line=""
	while read -r name want; do
		t=$(type_no "$name")
		[ -n "$t" ] || fail "unknown type '$name' in the stats"
		got=$(awk -F'\t' -v s=$i -v t=$t -v f="$final" \
		    '$2 == s && $3 == t && $1 < f + 0' "$T/frames" | wc -l)
		[ "$got" -eq "$want" ] ||
		    fail "server $i sent $want $name datagrams by its stats, the capture shows $got"
		line="$line $name=$got"
	done <"$T/out$i"
	echo "  server $i out, capture = stats:$line"
	# What clients sent it between its first and final replies: the
	# growth of "in" (a request sent before a server listens is lost).
	counts in "$T/start$i.json" >"$T/in0.$i"
	counts in "$T/stats$i.json" >"$T/in1.$i"
	port=$((PORT0 + i))
	line=""
	for name in add log_req stats_req; do
		want=$(($(awk -v n=$name '$1 == n { print $2 }' "$T/in1.$i") -
		    $(awk -v n=$name '$1 == n { print $2 }' "$T/in0.$i")))
		t=$(type_no "$name")
		got=$(awk -F'\t' -v t=$t -v p=$port -v a="$first" -v f="$final" \
		    '$2 == 4294967295 && $3 == t && $4 == p && $1 > a + 0 && $1 < f + 0' \
		    "$T/frames" | wc -l)
		[ "$got" -eq "$want" ] ||
		    fail "server $i received $want $name datagrams by its stats, the capture shows $got sent to it"
		line="$line $name=$got"
	done
	echo "  server $i in from clients, capture = stats:$line"
done

# DATA: ids 1..N once each, values as in the log
$TSHARK -r "$T/cap.pcapng" -Y 'seqcast.type == 3' -T fields -E separator=/t \
    -E occurrence=a -E aggregator=/s -e seqcast.id -e seqcast.value \
    >"$T/data" 2>/dev/null
awk -F'\t' 'BEGIN { for (i = 0; i < 256; i++) hex[sprintf("%02x", i)] = sprintf("%c", i) }
{
	n = split($1, ids, " "); m = split($2, vals, " ")
	if (n != m) { print "MISMATCH " NR; next }
	for (k = 1; k <= n; k++) {
		v = vals[k]; gsub(":", "", v); s = ""
		for (c = 1; c < length(v); c += 2) s = s hex[substr(v, c, 2)]
		print ids[k] "\t" s
	}
}' "$T/data" | sort -n >"$T/data.log"
grep -q MISMATCH "$T/data.log" && fail "a DATA datagram decoded with unequal numbers of ids and values"
[ "$(wc -l <"$T/data.log")" -eq $ENTRIES ] || fail "the DATA datagrams hold $(wc -l <"$T/data.log") entries, not $ENTRIES"
cmp -s "$T/data.log" "$T/log0" || fail "decoded DATA differs from the log: $(diff "$T/data.log" "$T/log0" | head -5)"
echo "  DATA: $(wc -l <"$T/data" | tr -d ' ') datagrams, ids 1..$ENTRIES once each, values equal to the log"
