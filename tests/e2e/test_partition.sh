# A partition that cuts the coordinator off (issue 13, point 3), on
# tools/netlab: three hosts h0 (view 0's coordinator), h1, h2, each with a
# data_dir and fsync = each, and a client host cl that reaches all three.
# Under load (two clients in cl: one through h1, one through h0 first,
# both given every server), "netlab partition h0 h1,h2" (nftables drop
# both ways; if a busy machine has set off a failover before, the
# coordinator of the moment is cut off instead, and "h0" below is it).
# Asserts:
# - the majority elects: h1 and h2 reach one new view, normal in it, its
#   coordinator one of them; a new entry through h2 is acked (the time from
#   the cut to that ACK is printed) and h1's applied count keeps growing
#   while the cut lasts;
# - nothing new is acked on the minority side: a client that talks only
#   to h0 gets no ACK for its two new entries and exits non-zero after its
#   timeout (its message is printed); h0's applied count does not move from
#   the majority's first ACK after the cut to the heal (4 s later);
# - after "netlab heal" h0 is a member of the majority's view; both load
#   clients exit 0 with every entry acked; the three logs are identical,
#   ids 1..N once each, equal digests; every acked entry is in them once
#   with its acked id; an entry no client was acked for can only be one of
#   the minority client's (a request that timed out may still land once
#   h0 rejoins and forwards it: the client was told it failed, not that it
#   was refused), and is counted;
# - netlab crash/restart: kill -9 of the current coordinator under load
#   (a client adding through it moves on and exits 0), the two others go
#   on in a newer view, the crashed host restarts with
#   its data_dir, rejoins as a member, and all logs are identical again.
# 16-22 s here.
#
# Root only (otherwise SKIP, exit 77); netlab makes its own namespaces.
#
# Seen to fail (temporary edits of this file): without the partition,
# "h1, h2 not in one new view above 0 within 10 s (last seen: view 0,
# coordinator 0)"; with the minority client given h1 as well as h0, "the
# minority client exited 0: 15484 minority-1 / 15485 minority-2".

P=scpart$$
. tests/e2e/netlab_lib.sh
. tests/e2e/views_lib.sh

RATE=${RATE:-3000}        # per load client
COUNT=${COUNT:-27000}     # per load client: 9 s at RATE, past the heal
CUT_AFTER=${CUT_AFTER:-1.5}

addr() { $NETLAB addr "h$1"; }
stats() { $NETLAB seqcast cl stats --timeout 2 --server "$(addr "$1")" 2>/dev/null; }
json_num() { grep -o "\"$1\":[0-9]*" | head -1 | cut -d: -f2; }
json_str() { grep -o "\"$1\":\"[^\"]*\"" | head -1 | cut -d'"' -f4; }

# sinfo I: "view coordinator normal_view role applied" of hI
sinfo() {
	s=$(stats "$1") || return 1
	echo "$s" | view_line
}
view_who() { echo "h$(echo "$*" | sed 's/ /, h/g')"; }
applied() { sinfo "$1" | cut -d' ' -f5; }

# member_of I VIEW COORD SECONDS: hI is a member of VIEW under COORD
member_of() {
	deadline=$(($(now_ms) + $4 * 1000))
	while :; do
		read -r v c nv role a <<EOF
$(sinfo "$1")
EOF
		[ "$v" = "$2" ] && [ "$nv" = "$2" ] && [ "$c" = "$3" ] && [ "$role" = member ] && return 0
		[ "$(now_ms)" -lt "$deadline" ] ||
		    fail "h$1 is not a member of view $2 (coordinator h$3) within $4 s: view ${v:-?}, coordinator ${c:-?}, normal_view ${nv:-?}, role ${role:-?}"
		sleep 0.05
	done
}

# load NAME COUNT SERVERS...: a client in cl adding COUNT entries at RATE
# through the hosts given (the first first)
load() {
	name=$1
	eval "N_$name=$2"
	shift 2
	list=$(for i in "$@"; do addr "$i"; done | paste -sd,)
	$NETLAB seqcast cl add --server "$list" --count "$(eval echo \$N_$name)" --rate "$RATE" \
	    --prefix "$name" --timeout 20 --stats-line >"$T/acked.$name" 2>"$T/client.$name" &
	CLIENTS="$CLIENTS $!"
	eval "CL_$name=$!"
}

# finish NAME: the client exits 0, acked for every entry
finish() {
	wait "$(eval echo \$CL_$1)" || fail "client $1 failed: $(cat "$T/client.$1")"
	n=$(wc -l <"$T/acked.$1")
	want=$(eval echo \$N_$1)
	[ "$n" -eq "$want" ] || fail "client $1 was acked for $n entries, not $want"
	echo "  client $1: $(sed -n 's/.*acked=\([0-9]*\) resent=\([0-9]*\).*seconds=\([0-9.]*\).*switches=\([0-9]*\).*/\1 acked, \2 resent, \3 s, \4 server switches/p' "$T/client.$1")"
}

# same_logs N: the three logs are identical, ids 1..N once each, equal
# digests; every acked entry (files acked.*) is there with its acked id;
# what no client was acked for is a minority client's. Prints the count.
same_logs() {
	seq 1 "$1" >"$T/ids.expected"
	d0=""
	for i in 0 1 2; do
		$NETLAB seqcast cl log --timeout 30 --server "$(addr $i)" >"$T/log$i" ||
		    fail "seqcast log from h$i failed"
		lines=$(wc -l <"$T/log$i")
		[ "$lines" -eq "$1" ] || fail "h$i log has $lines lines, not $1"
		cut -f1 "$T/log$i" | cmp -s - "$T/ids.expected" || fail "h$i ids are not 1..$1 in order"
		cmp -s "$T/log0" "$T/log$i" || fail "h$i log differs from h0's"
		d=$(stats $i | json_str digest)
		[ -n "$d" ] || fail "no digest from h$i"
		[ -n "$d0" ] || d0=$d
		[ "$d" = "$d0" ] || fail "h$i digest $d differs from h0's $d0"
	done
	dupes=$(cut -f2 "$T/log0" | sort | uniq -d | wc -l)
	[ "$dupes" -eq 0 ] || fail "$dupes values are in the log twice"
	cat "$T"/acked.* | sort >"$T/acked.sorted"
	sort "$T/log0" >"$T/log.sorted"
	missing=$(comm -23 "$T/acked.sorted" "$T/log.sorted" | wc -l)
	[ "$missing" -eq 0 ] ||
	    fail "$missing acked entries are not in the log with their acked id: $(comm -23 "$T/acked.sorted" "$T/log.sorted" | head -3 | tr '\t\n' ': ')"
	comm -13 "$T/acked.sorted" "$T/log.sorted" >"$T/unacked"
	other=$(grep -vc '	minority-' "$T/unacked")
	[ "$other" -eq 0 ] ||
	    fail "the log holds $other entries no client was acked for: $(grep -v '	minority-' "$T/unacked" | head -3 | tr '\t\n' ': ')"
	echo "  3 logs identical: $1 entries, ids 1..$1, digest $d0; every acked entry once with its id; $(wc -l <"$T/unacked") unacked minority entries landed after the heal"
}

echo "  (netlab up 3: namespaces $P-h0..h2, client host $P-cl; data_dir, fsync = each)"
UP=1
$NETLAB up 3 --conf-extra "data_dir=$LABDIR/data" --conf-extra fsync=each >"$T/up.out" 2>&1 ||
    { cat "$T/up.out"; fail "netlab up 3 failed"; }

# ------------------------------------------------ cut the coordinator off
load maj "$COUNT" 1 2 0
load via0 "$COUNT" 0 1 2
sleep "$CUT_AFTER"
# The coordinator of the moment (h0 unless a busy machine set off a
# failover already; the view is printed).
read -r V0 X nv role a <<EOF
$(sinfo 1)
EOF
[ -n "$X" ] || fail "no stats from h1"
[ "$(sinfo "$X" | cut -d' ' -f4)" = coordinator ] ||
    fail "h$X, the coordinator of view $V0 for h1, does not say it is the coordinator"
set -- $(for i in 0 1 2; do [ "$i" = "$X" ] || echo $i; done)
A=$1 B=$2
t0=$(now_ms)
$NETLAB partition "h$X" "h$A,h$B" >"$T/part.out" 2>&1 || { cat "$T/part.out"; fail "netlab partition failed"; }
$NETLAB seqcast cl add --server "$(addr "$B"),$(addr "$A")" --timeout 10 "probe-after-the-cut" \
    >"$T/acked.probe" 2>"$T/probe.err" || fail "no ACK through h$B after the cut: $(cat "$T/probe.err")"
echo "  partition {h$X} | {h$A h$B} (coordinator h$X of view $V0 cut off) to the ACK of a new entry through h$B: $(($(now_ms) - t0)) ms"
wait_view "$V0" 10 "$A" "$B"
V=$VIEW C=$COORD
echo "  majority: view $V, coordinator h$C, its last_failover_us $(stats "$C" | json_num last_failover_us)"

# The minority side: a client that knows only hX; meanwhile hX applies
# nothing and the majority goes on.
frozen=$(applied "$X")
maj1=$(applied "$A")
$NETLAB seqcast cl add --server "$(addr "$X")" --timeout 3 minority-1 minority-2 \
    >"$T/minority.out" 2>"$T/minority.err" && fail "the minority client exited 0: $(cat "$T/minority.out")"
[ -s "$T/minority.out" ] && fail "the minority client got ACKs: $(tr '\t\n' ': ' <"$T/minority.out")"
echo "  minority client (h$X only): no ACK, exit non-zero: $(head -1 "$T/minority.err")"

sleep 1
[ "$(applied "$X")" = "$frozen" ] || fail "h$X applied entries while cut off: $frozen, then $(applied "$X")"
maj2=$(applied "$A")
[ "$maj2" -gt "$maj1" ] || fail "the majority applied nothing while h$X was cut off ($maj1, then $maj2)"
sx=$(stats "$X")
echo "  while cut off: h$X stayed at applied $frozen (role $(echo "$sx" | json_str role), view $(echo "$sx" | json_num view), 'unavailable' answers $(echo "$sx" | json_num unavailable)); h$A went from $maj1 to $maj2"

$NETLAB heal >"$T/heal.out" 2>&1 || { cat "$T/heal.out"; fail "netlab heal failed"; }
t0=$(now_ms)
member_of "$X" "$V" "$C" 10
echo "  healed: h$X a member of view $V after $(($(now_ms) - t0)) ms; uncommitted entries it cut: $(stats "$X" | json_num truncated)"
finish maj
finish via0
CLIENTS=""
total=$(applied "$C")
for i in 0 1 2; do
	$NETLAB seqcast cl wait --server "$(addr $i)" --applied "$total" --timeout 30 ||
	    fail "h$i did not apply $total entries"
done
same_logs "$total"

# ------------------------------------------------ netlab crash / restart
rest=$(for i in 0 1 2; do [ "$i" = "$C" ] || echo $i; done | tr '\n' ' ')
load crash 6000 "$C" $rest
sleep 1
$NETLAB crash "h$C" >"$T/crash.out" 2>&1 || { cat "$T/crash.out"; fail "netlab crash h$C failed"; }
wait_view "$V" 10 $rest
V2=$VIEW C2=$COORD
echo "  netlab crash h$C under load: view $V2, coordinator h$C2"
finish crash
$NETLAB restart "h$C" >"$T/restart.out" 2>&1 || { cat "$T/restart.out"; fail "netlab restart h$C failed"; }
member_of "$C" "$V2" "$C2" 10
total=$(applied "$C2")
for i in 0 1 2; do
	$NETLAB seqcast cl wait --server "$(addr $i)" --applied "$total" --timeout 30 ||
	    fail "h$i did not apply $total entries"
done
echo "  netlab restart h$C: a member of view $V2"
same_logs "$total"
