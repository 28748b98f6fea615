# experiment-failover.sh - tools/experiment --failover: how long the
# cluster takes to serve again after kill -9 of its coordinator, over a
# matrix of heartbeat_ms x failover_ms, on the netlab. Sourced by
# tools/experiment (which parses the options and sets OUT, NETLAB,
# PREFIX, LABDIR, BUILD, DOCS, now, in_ns, srv); not run on its own.
#
# One measurement ("kill"): a fresh "netlab up 3" with the two settings
# in its cluster file; once one host coordinates (h0 in view 0, unless a
# view change happened as the lab started) and the other two are its
# members, 3 load clients in the client host cl (one through each server,
# the other two as fall-backs, FO_RATE entries/s each, 3 s of entries);
# 1.00-1.25 s into the load, kill -9 of the coordinator's seqcastd (the
# pid netlab recorded for its host, checked to be that daemon first);
# then tools/failover-probe in cl: one small add every 10 ms through the
# two survivors (a new client each), the time from the kill to the first
# ACK of one of them. Then: the load clients' outcome, the survivors'
# view, coordinator and last_failover_us, and their logs compared.

FO_HEARTBEATS=${FO_HEARTBEATS:-"10 25 50"}
FO_FAILOVERS=${FO_FAILOVERS:-"50 100 150 300"}
FO_KILLS=${FO_KILLS:-5}
FO_RATE=${FO_RATE:-2000}
FO_LOAD_S=3

# fo_role HOST: the role in HOST's stats (empty: no answer)
fo_role() {
	in_ns "$1" "$BUILD/seqcast" stats --timeout 1 --server "$(srv "${1#h}")" 2>/dev/null |
	    grep -o '"role":"[a-z_]*"' | head -1 | cut -d'"' -f4
}

# fo_json_num FILE KEY / fo_json_str FILE KEY: one field of a stats reply
fo_json_num() { grep -o "\"$2\":[0-9]*" "$1" | head -1 | cut -d: -f2; }
fo_json_str() { grep -o "\"$2\":\"[^\"]*\"" "$1" | head -1 | cut -d'"' -f4; }

# fo_ready: within 10 s, one host coordinates and the other two are its
# members; sets FO_COORD (h0, unless a view change happened as the lab
# started: the daemons' logs say why, and the row says so)
fo_ready() {
	local t=0 h r c m
	while [ $t -lt 1000 ]; do
		c="" m=0
		for h in h0 h1 h2; do
			r=$(fo_role $h)
			[ "$r" = coordinator ] && c="$c $h"
			[ "$r" = member ] && m=$((m + 1))
		done
		if [ $m = 2 ] && [ -n "$c" ]; then
			FO_COORD=${c# }
			return 0
		fi
		sleep 0.01
		t=$((t + 1))
	done
	return 1
}

# fo_victim HOST: the pid netlab recorded for HOST's daemon, if it is that
# daemon (its command line names this lab's cluster file and HOST's id):
# never signal anything else.
fo_victim() {
	local pid
	pid=$(cat "$LABDIR/$1.pid" 2>/dev/null) || return 1
	case $pid in '' | *[!0-9]*) return 1 ;; esac
	tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null |
	    grep -q "seqcastd --config $LABDIR/cluster.conf --id ${1#h}\( \|\$\)" || return 1
	echo "$pid"
}

# fo_run HB FO REP: one kill on a lab of its own, taken down whatever
# happens; appends a CSV row to $RESULTS
fo_run() {
	local rc
	fo_run_inner "$@"
	rc=$?
	for p in $CLIENTS; do kill "$p" 2>/dev/null; done
	for p in $CLIENTS; do wait "$p" 2>/dev/null; done
	CLIENTS=""
	$NETLAB down >/dev/null 2>&1
	return $rc
}
fo_run_inner() {
	local hb=$1 fo=$2 rep=$3 i j list per=$((FO_RATE * FO_LOAD_S)) pids="" victim tk t0 into
	local pr ms sent probes pfailed packed lo=ok cfail=0 acked=0 f agree=0 a1 a2 d1 d2
	local nv nc lfc lfm h c s1 s2 started=0
	rm -f "$OUT"/fo.* 2>/dev/null
	if ! $NETLAB up 3 --conf-extra "heartbeat_ms=$hb" --conf-extra "failover_ms=$fo" \
	    >"$OUT/netlab-up.log" 2>&1; then
		cat "$OUT/netlab-up.log"
		return 1
	fi
	if ! fo_ready; then
		echo "experiment: hb=$hb fo=$fo: the lab did not settle (one coordinator, two members) in 10 s"
		return 1
	fi
	c=$FO_COORD
	if [ "$c" != h0 ]; then
		started=1
		echo "  (hb=$hb fo=$fo kill $rep: the lab started with $c coordinating: a view change as it" \
		    "started; $(grep -h 'no word' "$LABDIR"/h*.log | head -2 | tr '\n' ' '))"
	fi
	s1="" s2=""
	for h in h0 h1 h2; do
		[ $h = "$c" ] && continue
		if [ -z "$s1" ]; then s1=$h; else s2=$h; fi
	done
	victim=$(fo_victim "$c") || { echo "experiment: no pid of $c's seqcastd in $LABDIR/$c.pid"; return 1; }
	t0=$EPOCHREALTIME
	for i in 0 1 2; do
		list=$(srv $i)
		for j in 0 1 2; do [ $j = $i ] || list="$list,$(srv $j)"; done
		in_ns cl "$BUILD/seqcast" add --server "$list" --count "$per" --rate "$FO_RATE" \
		    --value-size 64 --prefix "fo$i" --timeout 20 --quiet --stats-line \
		    2>"$OUT/fo.client$i" &
		pids="$pids $!"
	done
	CLIENTS=$pids
	sleep "$(awk -v r="$RANDOM" 'BEGIN { printf "%.3f", 1 + (r % 250) / 1000 }')"
	tk=$EPOCHREALTIME
	kill -KILL "$victim"
	into=$(( (${tk//[!0-9]/} - ${t0//[!0-9]/}) / 1000 ))
	pr=$(in_ns cl "$ROOT/tools/failover-probe" --since "$tk" --server "$(srv "${s1#h}"),$(srv "${s2#h}")" \
	    --client "$BUILD/seqcast" --interval-ms 10 --max-s 10 --timeout 5 \
	    --dir "$OUT/fo.probe" --prefix "probe")
	for p in $pids; do wait "$p" || cfail=$((cfail + 1)); done
	CLIENTS=""
	for i in 0 1 2; do
		f=$(grep '^sent=' "$OUT/fo.client$i" | tail -1 | sed -n 's/.*acked=\([0-9]*\).*/\1/p')
		acked=$((acked + ${f:-0}))
	done
	[ $cfail = 0 ] && [ $acked = $((3 * per)) ] || lo="$cfail failed, $acked of $((3 * per)) acknowledged"
	ms=$(echo "$pr" | sed -n 's/.*first_ack_ms=\([0-9.]*\).*/\1/p')
	sent=$(echo "$pr" | sed -n 's/.*sent_ms=\([0-9.]*\).*/\1/p')
	probes=$(echo "$pr" | sed -n 's/.*probes=\([0-9]*\).*/\1/p')
	packed=$(echo "$pr" | sed -n 's/.* acked=\([0-9]*\).*/\1/p')
	pfailed=$(echo "$pr" | sed -n 's/.*failed=\([0-9]*\).*/\1/p')
	# the survivors hold every acknowledged entry (at least as many
	# applied), and the same log (applied and digest equal)
	for h in $s1 $s2; do
		in_ns "$h" "$BUILD/seqcast" wait --server "$(srv "${h#h}")" \
		    --applied $((acked + ${packed:-0})) --timeout 10 --poll-ms 5 >/dev/null 2>&1
	done
	for _ in 1 2 3 4 5 6 7 8 9 10; do
		for h in $s1 $s2; do
			in_ns "$h" "$BUILD/seqcast" stats --timeout 5 --server "$(srv "${h#h}")" \
			    >"$OUT/fo.stats.$h" 2>/dev/null
		done
		a1=$(fo_json_num "$OUT/fo.stats.$s1" applied) d1=$(fo_json_str "$OUT/fo.stats.$s1" digest)
		a2=$(fo_json_num "$OUT/fo.stats.$s2" applied) d2=$(fo_json_str "$OUT/fo.stats.$s2" digest)
		[ -n "$a1" ] && [ "$a1 $d1" = "$a2 $d2" ] &&
		    [ "$a1" -ge $((acked + ${packed:-0})) ] && { agree=1; break; }
		sleep 0.1
	done
	nv=$(fo_json_num "$OUT/fo.stats.$s1" view)
	nc=$(fo_json_num "$OUT/fo.stats.$s1" coordinator)
	lfc="" lfm=""
	for h in $s1 $s2; do
		if [ "$(fo_json_str "$OUT/fo.stats.$h" role)" = coordinator ]; then
			lfc=$(fo_json_num "$OUT/fo.stats.$h" last_failover_us)
		else
			lfm=$(fo_json_num "$OUT/fo.stats.$h" last_failover_us)
		fi
	done
	echo "$hb,$fo,$rep,$FO_RATE,${c#h},$started,$into,${ms:-NaN},${sent:-NaN},${probes:-0},${pfailed:-0},${nv:-NaN},${nc:-NaN},${lfc:-NaN},${lfm:-NaN},$([ "$lo" = ok ] && echo 1 || echo 0),$agree" >>"$RESULTS"
	printf '  heartbeat %3s ms  failover_ms %4s  kill %s: %s killed %4s ms into the load, first ACK %7s ms after the kill (probe sent at %s ms, %s probes, %s failed); view %s coordinator h%s; last_failover_us %s (new coordinator) %s (member); load %s; logs %s\n' \
	    "$hb" "$fo" "$rep" "$c" "$into" "${ms:-none}" "${sent:--}" "${probes:-0}" "${pfailed:-0}" \
	    "${nv:-?}" "${nc:-?}" "${lfc:-?}" "${lfm:-?}" "$lo" "$([ $agree = 1 ] && echo "agree ($a1 entries)" || echo "DIFFER ($a1 $d1 / $a2 $d2)")"
	[ -n "$ms" ] && [ "$lo" = ok ] && [ $agree = 1 ]
}

# fo_table: one markdown row per setting (medians over its kills)
fo_table() {
	echo "| heartbeat_ms | failover_ms | kills | kill to first ACK, median ms | min | max | new coordinator's last_failover_us, median ms | runs with every load client done and logs equal |"
	echo "| ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |"
	awk -F, 'NR > 1 {
		k = $1 "," $2; n[k]++; if ($8 != "NaN") v[k] = v[k] " " $8
		if ($14 != "NaN") l[k] = l[k] " " $14 / 1000
		ok[k] += ($16 == 1 && $17 == 1) }
	function med(s,   a, m, i, j, t) {
		m = split(s, a, " "); if (m == 0) return "NaN"
		for (i = 2; i <= m; i++) { t = a[i] + 0; for (j = i - 1; j >= 1 && a[j] + 0 > t; j--) a[j + 1] = a[j]; a[j + 1] = t }
		lo = a[1]; hi = a[m]
		return (m % 2) ? a[(m + 1) / 2] : (a[m / 2] + a[m / 2 + 1]) / 2 }
	END { for (k in n) { split(k, s, ","); m = med(v[k]); mn = lo; mx = hi; ml = med(l[k])
		printf "| %d | %d | %d | %.0f | %.0f | %.0f | %.0f | %d of %d |\n", s[1], s[2], n[k], m, mn, mx, ml, ok[k], n[k] } }' "$RESULTS" |
	    sort -t'|' -k2,2n -k3,3n
}

fo_plot() {
	command -v gnuplot >/dev/null 2>&1 || { echo "experiment: no gnuplot: no plot (apt-get install gnuplot-nox)"; return 0; }
	local term="pngcairo size 900,560 font 'sans,11'" hb col=1 plot="" sep="" ymax
	gnuplot -e "set terminal pngcairo" >/dev/null 2>&1 || term="png size 900,560"
	for hb in $FO_HEARTBEATS; do
		# every kill (points), and the median per failover_ms (line)
		awk -F, -v hb="$hb" 'NR > 1 && $1 == hb && $8 != "NaN" { print $2, $8 }' "$RESULTS" >"$OUT/fo-hb$hb.pts"
		awk -F, -v hb="$hb" 'NR > 1 && $1 == hb && $8 != "NaN" { v[$2] = v[$2] " " $8 }
		END { for (f in v) { m = split(v[f], a, " ")
			for (i = 2; i <= m; i++) { t = a[i] + 0; for (j = i - 1; j >= 1 && a[j] + 0 > t; j--) a[j + 1] = a[j]; a[j + 1] = t }
			print f, (m % 2) ? a[(m + 1) / 2] : (a[m / 2] + a[m / 2 + 1]) / 2 } }' "$RESULTS" |
		    sort -n >"$OUT/fo-hb$hb.med"
		[ -s "$OUT/fo-hb$hb.pts" ] || continue
		plot="$plot$sep'$OUT/fo-hb$hb.med' using 1:2 with linespoints lw 2 pt 7 lc $col title 'heartbeat $hb ms: median', '$OUT/fo-hb$hb.pts' using (\$1 + $((col * 3 - 6))):2 with points pt 6 ps 0.8 lc $col notitle"
		sep=", "
		col=$((col + 1))
	done
	[ -n "$plot" ] || { echo "experiment: nothing to plot"; return 0; }
	# room above the slowest kill and the target line
	ymax=$(awk -F, 'NR > 1 && $8 != "NaN" && $8 > m { m = $8 } END { m *= 1.1; print (m > 600 ? int(m) : 600) }' "$RESULTS")
	gnuplot <<EOF
set terminal $term
set output '$OUT/failover.png'
set title "kill -9 of the coordinator under load to the first ACK of a new entry (netlab, 3 servers, $FO_KILLS kills per point)"
set grid
set key bottom right opaque box
set xlabel 'failover\_ms (members suspect the coordinator after this long without a word)'
set ylabel 'ms from the kill'
set xrange [0:*]
set yrange [0:$ymax]
plot $plot, 500 with lines dt 2 lw 2 lc rgb '#cc0000' title 'target: 500 ms (with the defaults)', x with lines dt 3 lw 1 lc rgb '#bbbbbb' title 'y = failover\_ms'
EOF
	echo "  plot: $OUT/failover.png"
}

fo_main() {
	local hb fo r fails=0 skipped=""
	RESULTS=$OUT/failover.csv
	echo "heartbeat_ms,failover_ms,run,load_rate_per_client,killed_server,startup_view_change,kill_into_load_ms,first_ack_ms,probe_sent_ms,probes,probes_failed,new_view,new_coordinator,last_failover_us_coordinator,last_failover_us_member,load_ok,logs_agree" >"$RESULTS"
	echo "experiment --failover: heartbeat_ms $FO_HEARTBEATS x failover_ms $FO_FAILOVERS" \
	    "(where failover_ms >= 2 heartbeats), $FO_KILLS kills each, 3 load clients x $FO_RATE entries/s" \
	    "in the client host; output in $OUT"
	for ((r = 1; r <= FO_KILLS; r++)); do
		for hb in $FO_HEARTBEATS; do
			for fo in $FO_FAILOVERS; do
				# Shorter than two heartbeats, one late heartbeat starts a
				# view change: not a setting anyone should run.
				if [ "$fo" -lt $((2 * hb)) ]; then
					[ $r = 1 ] && skipped="$skipped $hb/$fo"
					continue
				fi
				fo_run "$hb" "$fo" "$r" || fails=$((fails + 1))
			done
		done
	done
	[ -n "$skipped" ] && echo "  skipped (failover_ms < 2 x heartbeat_ms), heartbeat/failover:$skipped"
	fo_table >"$OUT/failover.md"
	echo
	echo "Results (median of $FO_KILLS kills per setting; the defaults are heartbeat_ms 50, failover_ms 150):"
	cat "$OUT/failover.md"
	echo
	fo_plot
	if [ "$DOCS" = 1 ]; then
		mkdir -p docs/plots
		cp "$RESULTS" docs/failover.csv
		cp "$OUT/failover.md" docs/failover.md
		[ -f "$OUT/failover.png" ] && cp "$OUT/failover.png" docs/plots/failover.png
		echo "  copied to docs/failover.csv, docs/failover.md, docs/plots/failover.png"
	fi
	FAILS=$fails
}
