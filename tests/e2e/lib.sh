# lib.sh - shared set-up for the end-to-end tests (POSIX sh; sourced).
#
# As root, each test re-runs itself inside a fresh network namespace
# (unshare -n, then lo up): its multicast and ports are its own and nothing
# leaves it. Otherwise it runs on 127.0.0.1 with ports and a group derived
# from its pid. Multicast groups are in 239.255.0.0/16, TTL 1.

BUILD=${BUILD:-build}
SEQCAST=$BUILD/seqcast
SEQCASTD=$BUILD/seqcastd
NOISE=$BUILD/seqcast-noise

if [ "$(id -u)" = 0 ] && [ -z "$SEQCAST_IN_NETNS" ] && [ -z "$SEQCAST_NO_NETNS" ] &&
    command -v unshare >/dev/null 2>&1 && unshare -n true 2>/dev/null; then
	export SEQCAST_IN_NETNS=1
	exec unshare -n sh -c 'ip link set lo up && exec sh "$0" "$@"' "$0" "$@"
fi

T=$(mktemp -d "${TMPDIR:-/tmp}/seqcast-e2e.XXXXXX")
PIDS=""
if [ -n "$SEQCAST_IN_NETNS" ]; then
	PORT0=4300
	GROUP=239.255.42.99:4299
	echo "  (in a fresh network namespace)"
else
	PORT0=$((20000 + ($$ % 2000) * 16))
	GROUP=239.255.$(($$ % 250 + 1)).$(($$ / 250 % 250 + 1)):$((PORT0 + 15))
	echo "  (on 127.0.0.1, ports from $PORT0)"
fi

fail() {
	echo "FAIL: $*"
	for f in "$T"/server*.log; do
		[ -f "$f" ] && { echo "--- $f"; tail -20 "$f"; }
	done
	exit 1
}

cleanup() {
	for p in $PIDS; do kill "$p" 2>/dev/null; done
	for p in $PIDS; do wait "$p" 2>/dev/null; done
	[ -n "$KEEP" ] || rm -rf "$T"
}
trap cleanup EXIT
trap 'exit 1' INT TERM

addr() { echo "127.0.0.1:$((PORT0 + $1))"; }

# write_conf N [key=value ...]: a cluster of N servers in $T/cluster.conf
write_conf() {
	n=$1
	shift
	{
		echo "[cluster]"
		echo "id = 1"
		echo "group = $GROUP"
		echo "interface = 127.0.0.1"
		echo "coordinator = 0"
		for kv in "$@"; do echo "$kv"; done
		i=0
		while [ $i -lt "$n" ]; do
			echo "[server $i]"
			echo "listen = $(addr $i)"
			i=$((i + 1))
		done
	} >"$T/cluster.conf"
	NSERVERS=$n
}

# start_server I [seqcastd flags...]: with $T/cluster.conf, or the file
# CONF names (a server with a cluster file of its own)
start_server() {
	i=$1
	shift
	"$SEQCASTD" --config "${CONF:-$T/cluster.conf}" --id "$i" "$@" \
	    2>>"$T/server$i.log" &
	eval "PID$i=$!"
	PIDS="$PIDS $!"
}

# start_cluster [seqcastd flags for every server...]
start_cluster() {
	i=0
	while [ $i -lt "$NSERVERS" ]; do
		start_server $i "$@"
		i=$((i + 1))
	done
	i=0
	while [ $i -lt "$NSERVERS" ]; do
		"$SEQCAST" $KEYOPT wait --server "$(addr $i)" --applied 0 --timeout 10 ||
		    fail "server $i did not come up"
		i=$((i + 1))
	done
}

# json_num FIELD < json: the first integer value of "FIELD"
json_num() {
	grep -o "\"$1\":[0-9]*" | head -1 | cut -d: -f2
}

# json_str FIELD < json: the first string value of "FIELD"
json_str() {
	grep -o "\"$1\":\"[^\"]*\"" | head -1 | cut -d'"' -f4
}

stat() { "$SEQCAST" $KEYOPT stats --timeout 60 --server "$(addr "$1")" | json_num "$2"; }

digest() {
	"$SEQCAST" $KEYOPT stats --timeout 60 --server "$(addr "$1")" |
	    grep -o '"digest":"[0-9a-f]*"' | cut -d'"' -f4
}

# servers_arg [SERVER...]: the servers named, or every server 0..NSERVERS-1
servers_arg() {
	if [ $# -gt 0 ]; then
		echo "$*"
	else
		seq 0 $((NSERVERS - 1)) | tr '\n' ' '
	fi
}

# wait_all N SECONDS [SERVER...]: every server (or those named) has
# applied N entries
wait_all() {
	wn=$1
	ws=$2
	shift 2
	for i in $(servers_arg "$@"); do
		"$SEQCAST" $KEYOPT wait --server "$(addr $i)" --applied "$wn" \
		    --timeout "$ws" || fail "server $i did not apply $wn entries in $ws s"
	done
}

# check_logs N [SERVER...]: every server's (or each named server's) log is
# the same N lines, ids 1..N once each, and the digests agree.
check_logs() {
	seq 1 "$1" >"$T/ids.expected"
	cn=$1
	shift
	first=""
	count=0
	for i in $(servers_arg "$@"); do
		"$SEQCAST" $KEYOPT log --timeout 60 --server "$(addr $i)" >"$T/log$i" ||
		    fail "seqcast log from server $i failed"
		lines=$(wc -l <"$T/log$i")
		[ "$lines" -eq "$cn" ] || fail "server $i log has $lines lines, not $cn"
		cut -f1 "$T/log$i" | cmp -s - "$T/ids.expected" ||
		    fail "server $i ids are not 1..$cn in order"
		d=$(digest $i)
		[ -n "$d" ] || fail "no digest from server $i"
		[ -n "$first" ] || { first=$i; d0=$d; }
		cmp -s "$T/log$first" "$T/log$i" ||
		    fail "server $i log differs from server $first"
		[ "$d" = "$d0" ] || fail "server $i digest $d differs from $d0"
		count=$((count + 1))
	done
	echo "  $count logs identical: $cn entries, ids 1..$cn, digest $d0"
}

# acked_kept I FILE...: every "ID<TAB>VALUE" line the clients printed
# (their ACKs) is in server I's log as check_logs left it ($T/logI),
# with that id. Sets ACKED to how many ACKs there were.
acked_kept() {
	ak=$1
	shift
	sort "$@" >"$T/acked"
	sort "$T/log$ak" >"$T/log$ak.sorted"
	missing=$(comm -23 "$T/acked" "$T/log$ak.sorted" | wc -l)
	[ "$missing" -eq 0 ] ||
	    fail "$missing acked entries are not in server $ak's log as acked"
	ACKED=$(wc -l <"$T/acked")
}

# in_view I SECONDS: server I is in a view (a member or the coordinator,
# not recovering or changing views) within SECONDS. `wait --applied 0`
# answers as soon as a server is up, even while it still recovers.
in_view() {
	iv=0
	while [ $iv -lt $(($2 * 20)) ]; do
		case $("$SEQCAST" $KEYOPT stats --timeout 2 --server "$(addr "$1")" \
		    2>/dev/null | json_str role) in
		member | coordinator) return 0 ;;
		esac
		sleep 0.05
		iv=$((iv + 1))
	done
	fail "server $1 not in a view within $2 s"
}
