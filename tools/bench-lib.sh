# bench-lib.sh - shell functions shared by tools/bench and tools/bench-peers:
# the network namespace, the work folder and its clean-up, a watchdog, a
# 3-server cluster, clients, stats snapshots, the CPU that processes used.
# Sourced, not run. The caller sets SEQCAST, SEQCASTD, CPS (clients per
# server), WINDOW, VSIZE and MAX_S (watchdog seconds), and BENCH_NAME
# (used in messages) before bench_init.

# bench_netns ARGS...: as root, run the calling script again inside a
# fresh network namespace (unshare -n, lo up): its ports and multicast are
# its own and nothing leaves it. Returns only when that is not possible.
bench_netns() {
	if [ "$(id -u)" = 0 ] && [ -z "${SEQCAST_IN_NETNS:-}" ] &&
	    [ -z "${SEQCAST_NO_NETNS:-}" ] && command -v unshare >/dev/null 2>&1 &&
	    unshare -n true 2>/dev/null; then
		export SEQCAST_IN_NETNS=1
		exec unshare -n bash -c 'ip link set lo up && exec bash "$0" "$@"' \
		    "$0" "$@"
	fi
}

# bench_init: the work folder $T, ports and groups, clean-up on exit, the
# watchdog (MAX_S seconds on the whole run), PDEATH.
bench_init() {
	T=$(mktemp -d "${TMPDIR:-/tmp}/seqcast-$BENCH_NAME.XXXXXX")
	MISSED=""       # targets missed, runs failed
	ERRORS=""       # runs that failed (not converged, client gave up)
	PERFPID=""
	DPIDS=""        # daemons
	CPIDS=""        # clients
	NPIDS=""        # NORM peers
	WATCHDOG=""
	if [ -n "${SEQCAST_IN_NETNS:-}" ]; then
		PORT0=4300
		GROUP=239.255.42.98:4299
		RAWGROUP=239.255.42.97:4297
		NORMGROUP=239.255.42.96 NORMPORT=4296
		WHERE="in a fresh network namespace"
	else
		PORT0=$((20000 + ($$ % 2000) * 16))
		GROUP=239.255.$(($$ % 250 + 1)).$(($$ / 250 % 250 + 1)):$((PORT0 + 15))
		RAWGROUP=239.255.$(($$ % 250 + 1)).$(($$ / 250 % 250 + 1)):$((PORT0 + 14))
		NORMGROUP=239.255.$(($$ % 250 + 1)).$(($$ / 250 % 250 + 1))
		NORMPORT=$((PORT0 + 13))
		WHERE="on the host's loopback (not root: no namespace)"
	fi
	trap cleanup EXIT
	trap 'echo "$BENCH_NAME: interrupted"
	    echo "verdict: fail: interrupted before the end${MISSED:+; }$MISSED"; exit 1' INT TERM
	trap 'trap "" PIPE; exit 1' PIPE      # output gone (| head): clean up, stop
	# Watchdog: the whole run is bounded. It signals only this script's
	# pid; clean-up stops it and its sleep by their pids.
	(
		sleep "$MAX_S" &
		echo $! >"$T/watchdog.pid"
		if wait $! 2>/dev/null; then
			echo "$BENCH_NAME: watchdog: over $MAX_S s, stopping"
			kill -TERM $$
		fi
	) &
	WATCHDOG=$!
	# Daemons and clients die with this script even if it is killed outright.
	PDEATH=""
	setpriv --pdeathsig TERM true 2>/dev/null && PDEATH="setpriv --pdeathsig TERM --"
}

# stop_pids PID...: SIGTERM, up to 5 s to exit, then SIGKILL; reaped.
stop_pids() {
	[ $# -gt 0 ] || return 0
	kill "$@" 2>/dev/null
	for _ in $(seq 50); do
		alive=0
		for p in "$@"; do kill -0 "$p" 2>/dev/null && alive=1; done
		[ $alive = 0 ] && break
		sleep 0.1
	done
	kill -KILL "$@" 2>/dev/null
	for p in "$@"; do wait "$p" 2>/dev/null; done
}

cleanup() {
	trap - EXIT INT TERM PIPE
	[ -n "$PERFPID" ] && stop_pids "$PERFPID"
	stop_pids $CPIDS $DPIDS $NPIDS
	if [ -n "$WATCHDOG" ]; then
		kill "$WATCHDOG" 2>/dev/null
		wait "$WATCHDOG" 2>/dev/null
		[ -s "$T/watchdog.pid" ] && kill "$(cat "$T/watchdog.pid")" 2>/dev/null
	fi
	if [ "${BENCH_KEEP:-0}" = 1 ]; then
		echo "$BENCH_NAME: work folder kept: $T"
	else
		rm -rf "$T"
	fi
}

say() { echo "$*"; }
note() { echo "  $*"; }
miss() { MISSED="$MISSED${MISSED:+; }$*"; }
fail_run() { say "FAILED: $*"; ERRORS="$ERRORS${ERRORS:+; }$*"; miss "$*"; }
# die MESSAGE: the benchmark itself cannot go on
die() {
	say "$BENCH_NAME: $*"
	say "verdict: fail: $*${MISSED:+; }$MISSED"
	exit 1
}

now() { date +%s.%N; }
# us_of EPOCH: microseconds of an $EPOCHREALTIME reading (any decimal mark)
us_of() { echo "${1//[!0-9]/}"; }
# calc EXPR [FORMAT]: EXPR (awk syntax) printed with FORMAT (default %.6f)
calc() { awk "BEGIN { printf \"${2:-%.6f}\", ($1) }" </dev/null; }
ge() { [ "$(calc "(($1) >= ($2)) ? 1 : 0" %d)" = 1 ]; }

addr() { echo "127.0.0.1:$((PORT0 + $1))"; }

# write_conf NAME [key=value ...]: a 3-server cluster file $T/NAME.conf,
# view 0's coordinator CONF_COORD (default 0)
# Datagrams the size a LAN carries (loopback's MTU is 64 KiB: datagrams
# that large would flatter every figure). BENCH_MTU=0: the interface's.
BENCH_MTU=${BENCH_MTU:-1500}

write_conf() {
	f=$T/$1.conf
	shift
	{
		echo "[cluster]"
		echo "id = 1"
		echo "group = $GROUP"
		echo "interface = 127.0.0.1"
		echo "ttl = 1"
		# the release before views knows no mtu (its datagrams
		# were 1472 bytes at most anyway)
		[ "${NO_MTU:-0}" = 1 ] || echo "mtu = $BENCH_MTU"
		echo "coordinator = ${CONF_COORD:-0}"
		for kv in "$@"; do echo "$kv"; done
		for i in 0 1 2; do
			echo "[server $i]"
			echo "listen = $(addr $i)"
		done
	} >"$f"
	CONF=$f
}

# start_cluster NAME [seqcastd flags for every server...]
start_cluster() {
	name=$1
	shift
	DPIDS=""
	for i in 0 1 2; do
		$PDEATH "$SEQCASTD" --config "$CONF" --id $i -q "$@" \
		    2>>"$T/$name.server$i.log" &
		eval "DPID$i=$!"
		DPIDS="$DPIDS $!"
	done
	for i in 0 1 2; do
		"$SEQCAST" wait --server "$(addr $i)" --applied 0 --timeout 10 \
		    >/dev/null || { tail -5 "$T/$name.server$i.log"; \
		    die "server $i did not start ($name)"; }
	done
	wait_ready "$name" 10 || { for i in 0 1 2; do tail -3 "$T/$name.server$i.log"; done
		die "the cluster did not settle in 10 s ($name):$READY_WHY"; }
}

# role I: "ROLE VIEW" of server I as its stats say (ROLE: coordinator,
# member, or a state such as view_change while a view is being made;
# VIEW: 0 from a release without views); empty: no answer
role() {
	"$SEQCAST" stats --timeout 1 --server "$(addr "$1")" 2>/dev/null |
	    grep -o '"role":"[a-z_]*"\|"view":[0-9]*' | head -2 | cut -d: -f2 |
	    tr -d '"' | tr '\n' ' ' | awk '{ print $1, ($2 == "" ? 0 : $2) }'
}

# wait_ready NAME BOUND: the cluster serves: one server coordinates and
# the others are its members, all in one view. A fresh cluster of the
# releases with views makes its first view before it stamps anything (a
# few tens of ms); a run that started its clocks before would time that
# too. Sets READY_MS (from the call), READY_COORD (the coordinator: server
# CONF_COORD unless a view change happened as the cluster started, which
# is said) and READY_VIEW; 1 with READY_WHY after BOUND s.
wait_ready() {
	_t0=$(now)
	_end=$(calc "$_t0 + $2")
	while :; do
		READY_WHY="" READY_COORD="" _views=""
		for i in 0 1 2; do
			set -- $(role $i)
			case ${1:-} in
			coordinator) READY_COORD="$READY_COORD $i" ;;
			member) ;;
			*) READY_WHY="$READY_WHY server $i: ${1:-no answer};" ;;
			esac
			_views="$_views ${2:-?}"
		done
		READY_VIEW=$(echo $_views | tr ' ' '\n' | sort -u)
		READY_COORD=${READY_COORD# }
		case $READY_COORD in
		'') READY_WHY="$READY_WHY no coordinator;" ;;
		*' '*) READY_WHY="$READY_WHY servers $READY_COORD all coordinate;" ;;
		esac
		case $READY_VIEW in *[!0-9]*) READY_WHY="$READY_WHY views $(echo $READY_VIEW);" ;; esac
		[ -z "$READY_WHY" ] && break
		ge "$(now)" "$_end" && return 1
		sleep 0.005
	done
	READY_MS=$(calc "($(now) - $_t0) * 1000" %.0f)
	STARTS=$((${STARTS:-0} + 1))
	if [ "$READY_COORD" != "${CONF_COORD:-0}" ]; then
		STARTUP_CHANGES=$((${STARTUP_CHANGES:-0} + 1))
		note "cluster $name started in view $READY_VIEW with server $READY_COORD coordinating," \
		    "not server ${CONF_COORD:-0}: a view change as it started (its servers' logs:" \
		    "$(grep -h 'view' "$T/$name".server*.log 2>/dev/null | head -4 | tr '\n' ' '))"
	fi
}

stop_cluster() {
	stop_pids $DPIDS
	DPIDS=""
}

# ------------------------------------------------------------------
# stats: the JSON flattened to "path=value" lines (out.data=12, ...)

flatten() {
	awk '
	function put(v,   p, i) {
		p = ""
		for (i = 1; i <= d; i++) if (st[i] != "") p = p st[i] "."
		print p key "=" v
		key = ""
	}
	{
		s = $0; d = 0; key = ""
		while (s != "") {
			c = substr(s, 1, 1)
			if (c == "{") { st[++d] = key; key = ""; s = substr(s, 2) }
			else if (c == "}") { d--; s = substr(s, 2) }
			else if (c == "\"") {
				# an unterminated string: a broken text, stop
				if (!match(s, /^"([^"\\]|\\.)*"/)) break
				t = substr(s, 2, RLENGTH - 2); s = substr(s, RLENGTH + 1)
				sub(/^[ \t]*/, "", s)
				if (substr(s, 1, 1) == ":") { key = t; s = substr(s, 2) }
				else put(t)
			} else if (c ~ /[-0-9a-z]/) {
				match(s, /^[-+0-9.eEa-z]+/)
				put(substr(s, 1, RLENGTH)); s = substr(s, RLENGTH + 1)
			} else s = substr(s, 2)
		}
	}'
}

# snapshot TAG: $T/TAG.I (flattened stats of server I) and TAG.I.len
snapshot() {
	for i in 0 1 2; do
		j=$("$SEQCAST" stats --timeout 20 --server "$(addr $i)") || {
			tail -5 "$T/$name.server$i.log"
			die "no stats from server $i ($name)"
		}
		printf '%s\n' "$j" | flatten >"$T/$1.$i"
		echo "len=${#j}" >>"$T/$1.$i"
	done
}

# snapshot_of TAG I...: the same for the servers named (the others may be
# down); 1 when one does not answer
snapshot_of() {
	_tag=$1
	shift
	for i in "$@"; do
		j=$("$SEQCAST" stats --timeout 5 --server "$(addr $i)") || return 1
		printf '%s\n' "$j" | flatten >"$T/$_tag.$i"
	done
}

# sv TAG I KEY: one value of a snapshot (0 if absent)
sv() {
	v=$(grep -m1 "^$3=" "$T/$1.$2" | cut -d= -f2)
	echo "${v:-0}"
}

# sum_delta A B KEY...: sum over servers and keys of snapshot B - A
sum_delta() {
	a=$1 b=$2
	shift 2
	total=0
	for i in 0 1 2; do
		for k in "$@"; do
			total=$((total + $(sv "$b" $i "$k") - $(sv "$a" $i "$k")))
		done
	done
	echo $total
}

# ------------------------------------------------------------------
# load

# clients NAME TOTAL [extra seqcast add flags...]: CPS clients per server,
# TOTAL entries in all, all at once, in the background; each one's CPU
# (user, system) lands in $T/NAME.ctimes.K when it exits.
clients() {
	name=$1 total=$2
	shift 2
	n=$((3 * CPS))
	per=$((total / n))
	CPIDS=""
	k=0
	for i in 0 1 2; do
		c=0
		while [ $c -lt "$CPS" ]; do
			cnt=$per
			[ $k -eq 0 ] && cnt=$((total - per * (n - 1)))
			# a shell around each client notes its CPU, user and
			# system apart (bash's times: its children's)
			$PDEATH bash -c '"$@"; rc=$?; times >"$0"; exit $rc' \
			    "$T/$name.ctimes.$k" \
			    $PDEATH "$SEQCAST" add --server "$(addr $i)" --count $cnt \
			    --value-size $VSIZE --prefix "$name$k" \
			    --window "$WINDOW" --timeout 30 --quiet \
			    --stats-line --latency-file "$T/$name.lat.$k" "$@" \
			    2>"$T/$name.client$k" &
			CPIDS="$CPIDS $!"
			k=$((k + 1))
			c=$((c + 1))
		done
	done
}

# wait_applied N BOUND: every server has applied N; 0 or 1 (timed out)
wait_applied() {
	end=$(calc "$(now) + $2")
	for i in 0 1 2; do
		left=$(calc "$end - $(now)")
		ge "$left" 0.01 || left=0.01
		"$SEQCAST" wait --server "$(addr $i)" --applied "$1" \
		    --timeout "$left" --poll-ms 5 2>>"$T/wait.err" >/dev/null ||
		    return 1
	done
}

# wait_clients NAME: the clients' exit status; their stats lines summed
wait_clients() {
	CFAIL=0
	for p in $CPIDS; do wait "$p" || CFAIL=$((CFAIL + 1)); done
	CPIDS=""
	CSENT=0 CACKED=0 CRESENT=0 CDGRAMS=0 CBYTES=0 CCPU=0
	for f in "$T/$1".client*; do
		l=$(grep '^sent=' "$f" | tail -1)
		for kv in $l; do
			case $kv in
			sent=*) CSENT=$((CSENT + ${kv#sent=})) ;;
			acked=*) CACKED=$((CACKED + ${kv#acked=})) ;;
			resent=*) CRESENT=$((CRESENT + ${kv#resent=})) ;;
			datagrams=*) CDGRAMS=$((CDGRAMS + ${kv#datagrams=})) ;;
			bytes=*) CBYTES=$((CBYTES + ${kv#bytes=})) ;;
			cpu=*) CCPU=$(calc "$CCPU + ${kv#cpu=}") ;;
			esac
		done
	done
}

# lat_merge FILES...: "p50 p99 p999 max n" of merged histograms (us)
lat_merge() {
	cat "$@" 2>/dev/null | sort -n | awk '
	{ v[NR] = $1; c[NR] = $2; n += $2 }
	END {
		if (n == 0) { print "- - - - 0"; exit }
		split("0.5 0.99 0.999", q, " ")
		for (j = 1; j <= 3; j++) {
			r = q[j] * n; if (r > int(r)) r = int(r) + 1; if (r < 1) r = 1
			s = 0
			for (i = 1; i <= NR; i++) { s += c[i]; if (s >= r) break }
			out = out v[i] " "
		}
		print out v[NR] " " n
	}'
}

# ticks PID: CPU time (user + system) of a live process, clock ticks
ticks() { awk '{ print $14 + $15 }' "/proc/$1/stat" 2>/dev/null || echo 0; }
daemon_ticks() { echo "$(ticks "$DPID0") $(ticks "$DPID1") $(ticks "$DPID2")"; }
# daemon_us_ticks: "user system" ticks of the coordinator, member 1, member 2
daemon_us_ticks() {
	for p in "$DPID0" "$DPID1" "$DPID2"; do
		awk '{ printf "%d %d ", $14, $15 }' "/proc/$p/stat" 2>/dev/null ||
		    printf '0 0 '
	done
	echo
}
# times_sum FILES...: "user system" seconds summed over bash `times`
# outputs (their second line: the shell's children)
times_sum() {
	cat "$@" 2>/dev/null | awk '
	function sec(t,   a) { split(t, a, "m"); sub(/s$/, "", a[2]); return a[1] * 60 + a[2] }
	NR % 2 == 0 { u += sec($1); s += sec($2) }
	END { printf "%.3f %.3f\n", u, s }'
}
# cpu_entry NAME ENTRIES: CPU-us per entry of the last sustained() run, one
# line "total user sys  coord user sys  member1 user sys  member2 user sys
# clients user sys" (daemons from DUS0/DUS1, clients from NAME.ctimes.*)
cpu_entry() {
	echo "$DUS0 $DUS1 $(times_sum "$T/$1".ctimes.*)" | awk -v n="$2" -v hz="$HZ" '{
		f = 1e6 / n / hz
		for (i = 0; i < 3; i++) { u[i] = ($(7 + 2 * i) - $(1 + 2 * i)) * f
			s[i] = ($(8 + 2 * i) - $(2 + 2 * i)) * f }
		u[3] = $13 * 1e6 / n; s[3] = $14 * 1e6 / n
		for (i = 0; i < 4; i++) { tu += u[i]; ts += s[i] }
		printf "%.3f %.3f %.3f", tu + ts, tu, ts
		for (i = 0; i < 4; i++) printf " %.3f %.3f %.3f", u[i] + s[i], u[i], s[i]
		print ""
	}'
}
# vec_median FILE: the median of each column of FILE's lines
vec_median() {
	awk '{ for (i = 1; i <= NF; i++) v[i, NR] = $i; if (NF > nf) nf = NF }
	END { for (i = 1; i <= nf; i++) { m = 0
		for (r = 1; r <= NR; r++) c[r] = v[i, r]
		for (a = 2; a <= NR; a++) { x = c[a]; for (b = a - 1; b >= 1 && c[b] > x; b--) c[b + 1] = c[b]; c[b + 1] = x }
		printf "%s%s", (i > 1 ? " " : ""), c[int((NR + 1) / 2)] }
		print "" }' "$1"
}
# cpu_entry_line VECTOR: a cpu_entry line in words
cpu_entry_line() {
	echo "$*" | awk '{
		printf "total %.1f us (user %.1f, sys %.1f); ", $1, $2, $3
		split("coordinator member1 member2 clients", r, " ")
		for (i = 0; i < 4; i++)
			printf "%s %.1f (user %.1f, sys %.1f)%s", r[i + 1], $(4 + 3 * i),
			    $(5 + 3 * i), $(6 + 3 * i), (i < 3 ? ", " : "\n")
	}'
}
# machine_ticks: "busy softirq steal total" of the whole machine (/proc/stat:
# every process, this benchmark's and anyone else's)
machine_ticks() {
	awk '/^cpu / { print $2 + $3 + $4 + $7 + $8 + $9, $8, $9,
	    $2 + $3 + $4 + $5 + $6 + $7 + $8 + $9 }' /proc/stat
}
HZ=$(getconf CLK_TCK 2>/dev/null || echo 100)
# steal_pct "$MT0" "$MT1": % of the machine's CPU time the host took away
# between two machine_ticks readings
steal_pct() {
	set -- $1 $2
	calc "100 * ($7 - $3) / (($8 - $4) > 0 ? ($8 - $4) : 1)" %.0f
}

# check_converged TAG TOTAL: every server applied TOTAL, digests agree
check_converged() {
	d0=$(sv "$1" 0 digest)
	for i in 0 1 2; do
		a=$(sv "$1" $i applied)
		[ "$a" = "$2" ] || { echo "server $i applied $a, not $2"; return 1; }
		[ "$(sv "$1" $i digest)" = "$d0" ] ||
		    { echo "server $i digest differs"; return 1; }
	done
}

# sustained NAME TOTAL BOUND [seqcastd flags...]: a fresh cluster (conf
# in $CONF), the clients, the time until every server applied TOTAL.
# Sets RATE (entries/s), SECS, OK (1 = all applied, acked, logs agree),
# WHY, CPE (cpu_entry: CPU-us per entry by role); snapshots NAME.before /
# NAME.after; leaves the cluster running.
sustained() {
	name=$1 total=$2 bound=$3
	shift 3
	start_cluster "$name" "$@"
	snapshot "$name.before"
	DT0=$(daemon_ticks)
	DUS0=$(daemon_us_ticks)
	MT0=$(machine_ticks)
	t0=$(now)
	clients "$name" "$total"
	[ "${BENCH_PERF:-0}" = 1 ] && [ "$name" = sustained ] &&
	    [ "${rep:-}" = 1 ] && perf_start
	OK=1 WHY=""
	wait_applied "$total" "$bound" || { OK=0; WHY="not applied on all servers within $bound s"; }
	t1=$(now)
	DT1=$(daemon_ticks)
	DUS1=$(daemon_us_ticks)
	MT1=$(machine_ticks)
	[ -n "${PERFPID:-}" ] && perf_stop
	wait_clients "$name"
	CPE=$(cpu_entry "$name" "$total")
	snapshot "$name.after"
	SECS=$(calc "$t1 - $t0")
	APPLIED=$(sv "$name.after" 2 applied)
	for i in 0 1; do
		a=$(sv "$name.after" $i applied)
		[ "$a" -lt "$APPLIED" ] && APPLIED=$a
	done
	RATE=$(calc "$APPLIED / $SECS" %.0f)
	if [ $OK = 1 ]; then
		[ "$CFAIL" = 0 ] && [ "$CACKED" = "$total" ] ||
		    { OK=0; WHY="$CFAIL clients failed, $CACKED of $total acknowledged"; }
		w=$(check_converged "$name.after" "$total") || { OK=0; WHY=$w; }
	fi
	[ $OK = 1 ] || cat "$T"/$name.client* >>"$T/$name.failure" 2>/dev/null
}

# cpu_line: where the CPU went in the last sustained() run
cpu_line() {
	set -- $DT0 $DT1
	c0=$(calc "($4 - $1) / $HZ" %.2f) c1=$(calc "($5 - $2) / $HZ" %.2f)
	c2=$(calc "($6 - $3) / $HZ" %.2f)
	cap=$(calc "$(nproc) * $SECS" %.2f)
	all=$(calc "$c0 + $c1 + $c2 + $CCPU" %.2f)
	pc() { calc "100 * $1 / $cap" %.0f; }
	set -- $MT0 $MT1
	mt=$(calc "$8 - $4" %d)
	[ "$mt" -gt 0 ] || mt=1
	echo "$(printf %.2f "$SECS") s x $(nproc) CPUs = $cap CPU-s:" \
	    "coordinator $c0 ($(pc $c0)%), member 1 $c1 ($(pc $c1)%)," \
	    "member 2 $c2 ($(pc $c2)%), $((3 * CPS)) clients $(printf %.2f "$CCPU") ($(pc "$CCPU")%);" \
	    "together $all ($(pc "$all")%); the whole machine (anyone's processes) was" \
	    "$(calc "100 * ($5 - $1) / $mt" %.0f)% busy (softirq $(calc "100 * ($6 - $2) / $mt" %.0f)%," \
	    "steal $(steal_pct "$MT0" "$MT1")%)"
}

# repair_line TAG: what the servers did to repair losses in run TAG
repair_line() {
	b=$1.before a=$1.after
	echo "nacks sent $(sum_delta $b $a nacks_sent)," \
	    "retransmissions $(sum_delta $b $a retransmissions)" \
	    "(unicast $(sum_delta $b $a retx_unicast)," \
	    "multicast $(sum_delta $b $a retx_multicast)," \
	    "skipped $(sum_delta $b $a retx_skipped))," \
	    "gaps $(sum_delta $b $a gaps)," \
	    "duplicates dropped $(sum_delta $b $a duplicates_dropped)," \
	    "re-forwards $(sum_delta $b $a reforwards)," \
	    "busy $(sum_delta $b $a busy)," \
	    "dropped by fault injection $(sum_delta $b $a faults.in.dropped)," \
	    "client resends $CRESENT"
}

# ------------------------------------------------------------------
# perf (BENCH_PERF=1)

perf_start() {
	command -v perf >/dev/null 2>&1 || { note "perf: not installed"; return; }
	perf record -e cpu-clock -p "$DPID0" -o "$T/perf.data" \
	    >"$T/perf.log" 2>&1 &
	PERFPID=$!
}

perf_stop() {
	kill -INT "$PERFPID" 2>/dev/null
	wait "$PERFPID" 2>/dev/null
	PERFPID=""
	perf report -i "$T/perf.data" --stdio --no-children --sort symbol \
	    -g none 2>/dev/null | awk '/^ +[0-9.]+%/ { printf "  %s", $1;
	    for (i = 2; i <= NF && $i != "-"; i++) printf " %s", $i; print "" }' |
	    head -25 >"$T/perf.txt"
}

median() { printf '%s\n' "$@" | sort -n | awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }'; }

# ------------------------------------------------------------------
# another release, built beside this tree (tools/bench's "cost")

# prev_build REV: REV's seqcastd and seqcast, built from git (git archive,
# so the clone gets no worktree to clean up) into
# $TMPDIR/seqcast-bench-prev-COMMIT, which is kept and reused by later
# runs (BENCH_PREV_DIR names another folder). Sets PREV_BUILD (its
# build/) and PREV_SHA; 1 with PREV_WHY when it cannot.
prev_build() {
	PREV_WHY="" PREV_BUILD="" PREV_SHA=""
	command -v git >/dev/null 2>&1 || { PREV_WHY="no git"; return 1; }
	PREV_SHA=$(git -C "$ROOT" rev-parse -q --verify "$1^{commit}" 2>/dev/null) ||
	    { PREV_WHY="'$1' is not a commit of this clone (git -C $ROOT)"; return 1; }
	_d=${BENCH_PREV_DIR:-${TMPDIR:-/tmp}/seqcast-bench-prev-$(echo "$PREV_SHA" | cut -c1-12)}
	if [ -x "$_d/build/seqcastd" ] && [ -x "$_d/build/seqcast" ]; then
		PREV_BUILD=$_d/build
		return 0
	fi
	# built in a folder of its own, moved in place once complete (two
	# benches at once never see half a build)
	_tmp=$_d.tmp.$$
	rm -rf "$_tmp"
	mkdir -p "$_tmp" || { PREV_WHY="cannot create $_tmp"; return 1; }
	if ! git -C "$ROOT" archive "$PREV_SHA" | tar -x -C "$_tmp"; then
		rm -rf "$_tmp"
		PREV_WHY="git archive $PREV_SHA failed"
		return 1
	fi
	if ! make -C "$_tmp" -j"$(nproc)" BUILD=build all >"$T/prev-make.log" 2>&1 ||
	    [ ! -x "$_tmp/build/seqcastd" ] || [ ! -x "$_tmp/build/seqcast" ]; then
		PREV_WHY="make all failed: $(grep -m1 -i 'error' "$T/prev-make.log" ||
		    tail -1 "$T/prev-make.log")"
		cp "$T/prev-make.log" "$_d.make.log" 2>/dev/null &&
		    PREV_WHY="$PREV_WHY (whole log: $_d.make.log)"
		rm -rf "$_tmp"
		return 1
	fi
	rm -rf "$_d"
	mv "$_tmp" "$_d" || { PREV_WHY="cannot move $_tmp to $_d"; rm -rf "$_tmp"; return 1; }
	PREV_BUILD=$_d/build
}
