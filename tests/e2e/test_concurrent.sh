# Three daemons; at the same time one client adds 5,000 entries through
# server 1, another 5,000 through server 2, a third 1,000 straight to the
# coordinator. Afterwards every server's log is the same 11,000 lines, ids
# 1..11000 each once, the values exactly those sent, the ids printed by
# `seqcast add` match the logs, and the digests agree.
. tests/e2e/lib.sh

write_conf 3
start_cluster

"$SEQCAST" add --server "$(addr 1)" --count 5000 --prefix one >"$T/add1" &
a1=$!
"$SEQCAST" add --server "$(addr 2)" --count 5000 --prefix two >"$T/add2" &
a2=$!
"$SEQCAST" add --server "$(addr 0)" --count 1000 --prefix coord >"$T/add0" &
a0=$!
wait $a1 || fail "client 1 failed"
wait $a2 || fail "client 2 failed"
wait $a0 || fail "client 0 failed"

wait_all 11000 30
check_logs 11000

# The values are exactly those sent, each once.
{ seq -f 'one-%g' 1 5000; seq -f 'two-%g' 1 5000; seq -f 'coord-%g' 1 1000; } |
    sort >"$T/values.sent"
cut -f2 "$T/log0" | sort >"$T/values.logged"
cmp -s "$T/values.sent" "$T/values.logged" || fail "logged values differ from those sent"
# What each client was told is what the logs hold.
cat "$T/add0" "$T/add1" "$T/add2" | sort -n >"$T/acked"
[ "$(wc -l <"$T/acked")" -eq 11000 ] || fail "clients printed $(wc -l <"$T/acked") ids, not 11000"
cmp -s "$T/acked" "$T/log0" || fail "ids printed by seqcast add differ from the log"
echo "  11000 values logged once each; the 11000 ids printed by the clients match the logs"
