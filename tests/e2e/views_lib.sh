# views_lib.sh - waiting for a view, for the failover tests (POSIX sh;
# sourced after lib.sh or netlab_lib.sh). The caller defines
#   sinfo I      "view coordinator normal_view role applied" of server I
#                (view_line makes it from `seqcast stats`), or nothing;
#   view_who I.. how a failure names those servers.

now_ms() { echo $(($(date +%s%N) / 1000000)); }

# view_line < STATS-JSON: "view coordinator normal_view role applied"
view_line() {
	vl=$(cat)
	echo "$(echo "$vl" | json_num view) $(echo "$vl" | json_num coordinator)" \
	    "$(echo "$vl" | json_num normal_view) $(echo "$vl" | json_str role)" \
	    "$(echo "$vl" | json_num applied)"
}

# wait_view AFTER SECONDS I...: the servers named agree on one view above
# AFTER, are normal in it (normal_view = view), and its coordinator is
# one of them and says so. Sets VIEW and COORD.
wait_view() {
	after=$1
	secs=$2
	shift 2
	deadline=$(($(now_ms) + secs * 1000))
	while :; do
		ok=1
		VIEW=""
		COORD=""
		for i in "$@"; do
			read -r v c nv role a <<EOF2
$(sinfo "$i")
EOF2
			if [ -z "$role" ] || [ "$v" -le "$after" ] || [ "$v" != "$nv" ] ||
			    { [ -n "$VIEW" ] && [ "$v:$c" != "$VIEW:$COORD" ]; }; then
				ok=0
			fi
			[ -n "$role" ] && { VIEW=$v; COORD=$c; }
			[ "$i" = "$COORD" ] && [ "$role" != coordinator ] && ok=0
		done
		case " $* " in *" $COORD "*) ;; *) ok=0 ;; esac
		[ $ok = 1 ] && return 0
		[ "$(now_ms)" -lt "$deadline" ] ||
		    fail "$(view_who "$@") not in one new view above $after within $secs s (last seen: view ${VIEW:-?}, coordinator ${COORD:-?})"
		sleep 0.05
	done
}
