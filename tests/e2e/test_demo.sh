# tools/demo (make demo), in the test's own network namespace:
# - a normal run succeeds, shows 3003 identical entries, and leaves no
#   seqcast-demo.* folder in $TMPDIR;
# - with another cluster already on the demo's ports (the same cluster id
#   and group, started by the test), the demo fails with a message that
#   names the port in use, exits non-zero, never claims its servers are
#   up, adds nothing to the other cluster, and keeps its logs folder (and
#   says where);
# - with one of its ports held by a single daemon of another cluster, the
#   same, naming that server and port.
#
# Root only (skips, exit 77, otherwise): the demo uses the fixed ports of
# etc/seqcast.conf (4300-4302), which only a namespace of the test's own
# makes safe to take.

skip() { echo "  skipped: $*"; exit 77; }
[ "$(id -u)" = 0 ] || skip "needs root (the demo's fixed ports are safe to take only in a network namespace of the test's own)"
. tests/e2e/lib.sh
[ -n "$SEQCAST_IN_NETNS" ] || skip "no network namespace (unshare -n failed)"

DT=$T/tmp
mkdir "$DT" || fail "cannot make $DT"
demo() {	# demo OUT: run tools/demo in this namespace, TMPDIR=$DT
	TMPDIR=$DT BUILD=$BUILD sh tools/demo >"$1" 2>&1
}

# ---- a normal run
demo "$T/demo1.out" || { cat "$T/demo1.out"; fail "the demo failed"; }
grep -q "all 3 logs are identical (3003 entries)" "$T/demo1.out" ||
    { cat "$T/demo1.out"; fail "the demo did not show 3003 identical entries"; }
left=$(ls -A "$DT")
[ -z "$left" ] || fail "the demo left $left in \$TMPDIR"
echo "  normal run: 3003 identical entries, nothing left in \$TMPDIR"

# A failed run: non-zero, says which port is held, never "up", keeps its
# folder and says where.
check_failed() {	# check_failed OUT RC PORT WHAT
	[ "$2" -ne 0 ] || { cat "$1"; fail "$4: the demo exited 0"; }
	grep -q "another program holds port $3" "$1" ||
	    { cat "$1"; fail "$4: no message about port $3"; }
	grep -q "Address already in use" "$1" ||
	    { cat "$1"; fail "$4: the daemon's own error is not shown"; }
	! grep -q "servers up\|logs are identical" "$1" ||
	    { cat "$1"; fail "$4: the demo claimed success"; }
	kept=$(sed -n 's/.*the servers. logs are kept in \(.*\)$/\1/p' "$1")
	[ -n "$kept" ] && [ -d "$kept" ] && [ -f "$kept/server0.log" ] ||
	    { cat "$1"; fail "$4: the logs folder is not kept or not named ('$kept')"; }
	case $kept in "$DT"/seqcast-demo.*) ;; *) fail "$4: kept folder $kept is not in \$TMPDIR" ;; esac
	rm -rf "$kept"
}

# ---- another cluster on all three ports: same id, same group
write_conf 3
start_cluster
demo "$T/demo2.out"
check_failed "$T/demo2.out" $? 4300 "another cluster on the ports"
for i in 0 1 2; do
	a=$(stat $i applied)
	[ "$a" = 0 ] || fail "the demo added $a entries to the other cluster (server $i)"
done
echo "  another cluster on 4300-4302: $(grep -m1 'another program holds' "$T/demo2.out")"
for p in $PIDS; do kill "$p"; done
for p in $PIDS; do wait "$p" 2>/dev/null; done
PIDS=""

# ---- one port held: a lone daemon of another cluster on 127.0.0.1:4301
cat >"$T/lone.conf" <<EOF
[cluster]
id = 77
group = 239.255.77.77:4377
interface = 127.0.0.1
[server 0]
listen = 127.0.0.1:4301
EOF
"$SEQCASTD" --config "$T/lone.conf" --id 0 2>"$T/lone.log" &
PIDS=$!
"$SEQCAST" wait --server 127.0.0.1:4301 --applied 0 --timeout 10 || fail "the lone daemon did not start"
demo "$T/demo3.out"
check_failed "$T/demo3.out" $? 4301 "port 4301 held"
grep -q "server 1 (127.0.0.1:4301) could not start" "$T/demo3.out" ||
    { cat "$T/demo3.out"; fail "port 4301 held: server 1 is not named"; }
echo "  port 4301 held: $(grep -m1 'could not start' "$T/demo3.out")"
left=$(ls -A "$DT")
[ -z "$left" ] || fail "left in \$TMPDIR: $left"
