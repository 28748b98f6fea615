# The Wireshark dissector tools/seqcast.lua against the daemon's own
# counters (wire format version 2).
#
# 0. The dissector's message types (MESSAGES) are the daemon's: the names
#    of enum sc_type in sc_type_name() order (daemon/wire.c), listed in
#    NAMES below, and the same list as the servers' stats report.
# 1. Every datagram of the wire fuzz corpus decodes as its type, nothing
#    malformed; the corpus holds one datagram of every type in NAMES with
#    a little-endian and one with a big-endian tpl image.
# 2. In a fresh network namespace, dumpcap records lo while a keyed
#    3-server cluster (server 2 drops a tenth of the DATA it receives, so
#    that it asks for retransmissions) takes 303 entries through all
#    three servers and answers log and stats requests; then the
#    coordinator, server 0, is killed, servers 1 and 2 hold a view
#    change, and 30 more entries go through them. The capture is decoded
#    with tshark -X lua_script:tools/seqcast.lua and compared with the
#    servers' last `seqcast stats`:
#    - every UDP datagram in the capture is seqcast, none is malformed,
#      each carries its MAC trailer;
#    - per server and per message type, the datagrams the capture shows
#      from that server before the STATS_REPLY that carried its last
#      counters equal its "out" counter exactly (see below for why this
#      is exact, and what it leaves out);
#    - what clients sent each server between two of its stats replies
#      equals the growth of its "in" counters for ADD, LOG_REQ, STATS_REQ;
#    - the types a view change and repair need were seen on the wire;
#    - the DATA datagrams hold ids 1..333 once each, and their decoded
#      values are those of the servers' log.
#
# Needs root (a network namespace, capturing), tshark, dumpcap and
# text2pcap; skips (exit 77) without them.
#
# To see it fail: delete a line of MESSAGES in tools/seqcast.lua (step 0,
# then the corpus and the capture fail), or make the heuristic want
# version 1 (nothing decodes).

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
# Datagrams the dissector must never show. An ICMP error quotes the
# datagram it answers; that quote is not a datagram of its own.
BAD='seqcast.malformed || seqcast.format_mismatch || seqcast.unknown_type || seqcast.version_unknown || _ws.malformed || _ws.lua.error'
# enum sc_type, in sc_type_name() order (daemon/wire.c): type k is the
# k-th name.
NAMES="add fwd data retx ack stamped heartbeat nack report gone log_req
log_reply stats_req stats_reply view_change do_view recovery recovery_reply
config cookie"
type_no() {	# name -> number (enum sc_type order)
	k=1
	for n in $NAMES; do
		[ "$n" = "$1" ] && { echo $k; return; }
		k=$((k + 1))
	done
}

# ---- 0. the dissector's types are the daemon's
k=0
for n in $NAMES; do
	k=$((k + 1))
	echo "$k $n"
done >"$T/names"
cut -d' ' -f2 "$T/names" >"$T/names.only"
# -G must come first: tshark reads the script after it
tshark -G values -X lua_script:$LUA 2>"$T/values.err" |
    awk -F'\t' '$1 == "V" && $2 == "seqcast.type" { print $3, tolower($4) }' |
    sort -n >"$T/table"
cmp -s "$T/names" "$T/table" ||
    fail "the dissector's MESSAGES are not the types of daemon/wire.c:" \
    "missing: $(grep -vxF -f "$T/table" "$T/names" | tr '\n' ' ')" \
    "extra or misplaced: $(grep -vxF -f "$T/names" "$T/table" | tr '\n' ' ')" \
    "$(grep -v '^Running as user' "$T/values.err")"
echo "  dissector: the $k message types of daemon/wire.c, in order"

# ---- 1. the corpus: one datagram of every type, both endiannesses
for name in $NAMES; do
	for f in tests/fuzz/corpus/wire/valid-$name tests/fuzz/corpus/wire/valid-be-$name; do
		[ -f "$f" ] || fail "no $f: the corpus lacks a type (test_wire --write-corpus DIR writes it)"
	done
done
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
bad=$($TSHARK -r "$T/corpus.pcap" -Y "$BAD" 2>/dev/null | wc -l)
[ "$bad" -eq 0 ] || fail "corpus: $bad datagrams malformed or unreadable to the dissector"
echo "  corpus: $n datagrams, every type decoded as itself (little- and big-endian tpl)"

# ---- 2. a live cluster, captured on lo
ENTRIES=303	# before the coordinator is killed
MORE=30		# after
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

# Server 2 loses DATA on receipt (after the capture saw it on lo): it asks
# for retransmissions (NACK, RETX). Only DATA: the clients' requests to
# it all arrive, so its "in" stays comparable. The seed draws only for
# DATA, so the k-th DATA it receives has the same fate in every run (the
# 2nd is lost): the NACKs and RETX checked below are no matter of luck.
start_server 0
start_server 1
start_server 2 --fault fault_in_drop=10% --fault fault_types=data --fault fault_seed=7
for i in 0 1 2; do
	$SEQCAST $KEYOPT wait --server "$(addr $i)" --applied 0 --timeout 10 ||
	    fail "server $i did not come up"
done
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

# The coordinator dies; its stats above are its last. Servers 1 and 2
# notice (failover_ms without its heartbeat), vote, and server 1
# coordinates view 1.
kill "$PID0"
wait "$PID0" 2>/dev/null
PIDS="$PID1 $PID2"
n=0
while :; do
	$SEQCAST $KEYOPT stats --server "$(addr 1)" >"$T/poll.json" 2>/dev/null
	grep -q '"role":"coordinator"' "$T/poll.json" &&
	    [ "$(json_num view <"$T/poll.json")" -ge 1 ] && break
	n=$((n + 1))
	[ $n -lt 100 ] || fail "server 1 did not take over after the coordinator died"
	sleep 0.1
done
$SEQCAST $KEYOPT add --quiet --window 8 --server "$(addr 1),$(addr 2)" --count $MORE --prefix after ||
    fail "adding after the failover failed"
ENTRIES=$((ENTRIES + MORE))
for i in 1 2; do
	$SEQCAST $KEYOPT wait --server "$(addr $i)" --applied $ENTRIES --timeout 30 ||
	    fail "server $i did not apply $ENTRIES entries"
	$SEQCAST $KEYOPT log --timeout 60 --server "$(addr $i)" >"$T/log$i" ||
	    fail "seqcast log from server $i failed"
done
seq 1 $ENTRIES >"$T/ids.expected"
cut -f1 "$T/log1" | cmp -s - "$T/ids.expected" || fail "server 1's ids are not 1..$ENTRIES"
cmp -s "$T/log1" "$T/log2" || fail "the logs of servers 1 and 2 differ"
for i in 1 2; do
	$SEQCAST $KEYOPT stats --server "$(addr $i)" >"$T/stats$i.json" ||
	    fail "stats from server $i failed"
done
echo "  server 0 killed, server 1 coordinates view $(json_num view <"$T/stats1.json"); servers 1 and 2 hold the same $ENTRIES entries"

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

$TSHARK -r "$T/cap.pcapng" -Y 'seqcast && !icmp' -T fields -E separator=/t \
    -e frame.number -e seqcast.sender -e seqcast.type -e udp.dstport \
    -e seqcast.flags.mac -e seqcast.mac.counter -e seqcast.view \
    >"$T/frames" 2>"$T/tshark.err" ||
    fail "tshark on the capture: $(cat "$T/tshark.err")"
udp=$(tshark -n -r "$T/cap.pcapng" -Y 'udp && !icmp && udp.dstport != 9' 2>/dev/null | wc -l)
last=$(tail -1 "$T/frames" | cut -f1)
filler=$(tshark -n -r "$T/cap.pcapng" -Y "udp.dstport == 9 && !icmp && frame.number > $last" 2>/dev/null | wc -l)
[ "$filler" -gt 0 ] || fail "the capture ends before the filler: its last datagrams may be lost"
total=$(wc -l <"$T/frames")
[ "$total" -gt 0 ] || fail "no seqcast datagram in the capture"
[ "$total" -eq "$udp" ] || fail "$udp UDP datagrams captured, $total decoded as seqcast"
bad=$($TSHARK -r "$T/cap.pcapng" -Y "!icmp && ($BAD || seqcast.trailer)" 2>/dev/null | wc -l)
[ "$bad" -eq 0 ] || fail "$bad captured datagrams malformed or unreadable to the dissector"
nomac=$(awk -F'\t' '$5 != "1" || $6 == ""' "$T/frames" | wc -l)
[ "$nomac" -eq 0 ] || fail "$nomac captured datagrams without a MAC trailer"
echo "  capture: $total datagrams, all decoded as seqcast with a MAC trailer, none malformed"

# What a view change and repair send was on the wire, decoded as such:
# a vote for view 1 and its DO_VIEW, the new coordinator's heartbeat,
# server 2's NACKs and their RETX, the RECOVERY of a start.
for need in "view_change 1" "do_view 1" "heartbeat 1" "nack 0" "retx 0" \
    "recovery 0" "recovery_reply 0"; do
	set -- $need
	t=$(type_no "$1")
	got=$(awk -F'\t' -v t=$t -v v=$2 '$3 == t && $7 >= v + 0' "$T/frames" | wc -l)
	[ "$got" -gt 0 ] || fail "no $1 datagram of view $2 or later in the capture"
done
seen=""
for name in $NAMES; do
	t=$(type_no "$name")
	got=$(awk -F'\t' -v t=$t '$3 == t' "$T/frames" | wc -l)
	[ "$got" -eq 0 ] || seen="$seen $name=$got"
done
echo "  types on the wire:$seen"

# The frame that carried a stats reply: the one whose JSON is what
# seqcast stats printed (the counters grow, so each JSON is unique).
$TSHARK -r "$T/cap.pcapng" -Y "seqcast.type == $(type_no stats_reply) && !icmp" \
    -T fields -E separator=/t -e frame.number -e seqcast.sender -e seqcast.json \
    >"$T/replies" 2>/dev/null
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
# Why "out" compares exactly: the capture began before the servers
# started, and a server counts a datagram in "out" as it hands it to
# sendto(), one count per datagram (a multicast DATA is one datagram on
# lo however many receive it), from one thread that builds a STATS_REPLY's
# JSON and sends it with nothing sent in between. So the frames from
# server i before its reply are what it counted, unless a sendto()
# failed: then "out" counts a datagram the wire never saw. The servers'
# "send_errors" says how many; with none, every type compares exactly,
# else the totals differ by exactly that many and no type may show more
# than it counted.
# What it leaves out: whatever a server sent after its last reply. For
# server 0 that is the heartbeats (and any repair) of its last moments
# before the kill: no stats can count them, and they are only checked
# above (decoded, none malformed). Receivers' "in" cannot be compared
# for server traffic: a multicast DATA is counted once by each receiver,
# server 2 drops some on purpose, and a server refuses datagrams that
# arrive out of its replay window (auth_replay) after counting nothing.
# What clients send a server is compared through "in" instead: it
# counts every request that passes the MAC check, and a client's
# counter is its clock, always within the 60 s a server allows.
for i in 0 1 2; do
	first=$(reply_frame $i "$T/start$i.json")
	final=$(reply_frame $i "$T/stats$i.json")
	[ -n "$first" ] && [ -n "$final" ] || fail "server $i: its stats replies are not in the capture"
	counts out "$T/stats$i.json" >"$T/out$i"
	# the types it counts are exactly those of NAMES, in order
	cut -d' ' -f1 "$T/out$i" | cmp -s - "$T/names.only" ||
	    fail "server $i: stats 'out' types are not those of daemon/wire.c: $(cut -d' ' -f1 "$T/out$i" | tr '\n' ' ')"
	errors=$(json_num send_errors <"$T/stats$i.json")
	[ -n "$errors" ] || fail "server $i: no send_errors in its stats"
	line=""
	sum_want=0
	sum_got=0
	while read -r name want; do
		t=$(type_no "$name")
		got=$(awk -F'\t' -v s=$i -v t=$t -v f="$final" \
		    '$2 == s && $3 == t && $1 < f + 0' "$T/frames" | wc -l)
		if [ "$errors" -eq 0 ]; then
			[ "$got" -eq "$want" ] ||
			    fail "server $i sent $want $name datagrams by its stats, the capture shows $got"
		else
			[ "$got" -le "$want" ] ||
			    fail "server $i sent $want $name datagrams by its stats, the capture shows more: $got"
		fi
		sum_want=$((sum_want + want))
		sum_got=$((sum_got + got))
		[ "$want" -eq 0 ] || line="$line $name=$got"
	done <"$T/out$i"
	[ "$sum_got" -eq $((sum_want - errors)) ] ||
	    fail "server $i sent $sum_want datagrams by its stats, $errors failed, the capture shows $sum_got"
	echo "  server $i out, capture = stats ($sum_got datagrams, $errors send errors):$line"
	# What clients sent it between its first and last replies: the
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

# DATA: ids 1..N once each, values as in the log (of both views)
$TSHARK -r "$T/cap.pcapng" -Y "seqcast.type == $(type_no data) && !icmp" -T fields \
    -E separator=/t -E occurrence=a -E aggregator=/s -e seqcast.id -e seqcast.value \
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
cmp -s "$T/data.log" "$T/log1" || fail "decoded DATA differs from the log: $(diff "$T/data.log" "$T/log1" | head -5)"
echo "  DATA: $(wc -l <"$T/data" | tr -d ' ') datagrams, ids 1..$ENTRIES once each, values equal to the log"
