# make install into a staging folder (DESTDIR, PREFIX=/usr), then make
# uninstall from it:
# - install puts exactly the programs, the man pages, the example cluster
#   files, the dissector and the systemd unit, with the paths inside the
#   unit and the pages following PREFIX, and the installed programs run;
# - each page renders (man -l, or mandoc -T ascii without man-db) and
#   documents every option its program's --help lists (the daemon's keys:
#   every key of etc/seqcast.conf), and mandoc -T lint finds nothing at
#   WARNING or above, nor any STYLE message but "referenced manual not
#   found" (the system's manual database does not hold the staged pages);
# - uninstall leaves the staging folder empty.
#
# Needs make and mandoc (skips, exit 77, without mandoc); no root, no
# network.

BUILD=${BUILD:-build}
skip() { echo "  skipped: $*"; exit 77; }
command -v mandoc >/dev/null 2>&1 || skip "no mandoc (Debian package mandoc; tools/install-deps)"
command -v make >/dev/null 2>&1 || skip "no make"

D=$(mktemp -d "${TMPDIR:-/tmp}/seqcast-install.XXXXXX")
T=$(mktemp -d "${TMPDIR:-/tmp}/seqcast-e2e.XXXXXX")
trap '[ -n "$KEEP" ] || rm -rf "$D" "$T"' EXIT
trap 'exit 1' INT TERM
fail() { echo "FAIL: $*"; exit 1; }

make -s install BUILD="$BUILD" DESTDIR="$D" PREFIX=/usr >"$T/install.out" 2>&1 ||
    fail "make install: $(cat "$T/install.out")"

cat >"$T/expected" <<EOF
usr/bin/seqcast
usr/bin/seqcast-noise
usr/bin/seqcastd
usr/lib/systemd/system/seqcast@.service
usr/share/man/man1/seqcast.1
usr/share/man/man5/seqcast.conf.5
usr/share/man/man8/seqcastd.8
usr/share/seqcast/seqcast.lua
EOF
for f in etc/*.conf; do echo "usr/share/seqcast/${f#etc/}"; done >>"$T/expected"
sort -o "$T/expected" "$T/expected"
(cd "$D" && find . ! -type d | sed 's|^\./||' | sort) >"$T/installed"
cmp -s "$T/expected" "$T/installed" ||
    fail "installed files differ from the expected ones: $(diff "$T/expected" "$T/installed" | grep '^[<>]' | tr '\n' ' ')"
echo "  installed $(wc -l <"$T/installed") files: $(tr '\n' ' ' <"$T/installed")"

# the programs run, and are those of this build
for p in seqcastd seqcast-noise; do
	[ -x "$D/usr/bin/$p" ] || fail "$p is not executable"
	got=$("$D/usr/bin/$p" --version) || fail "$p --version failed"
	want=$("$BUILD/$p" --version)
	[ "$got" = "$want" ] && [ -n "$got" ] || fail "$p --version: '$got', the build says '$want'"
done
"$D/usr/bin/seqcast" --help >/dev/null || fail "seqcast --help failed"
"$D/usr/bin/seqcastd" --check-config --config "$D/usr/share/seqcast/seqcast.conf" >/dev/null ||
    fail "the installed seqcast.conf does not check"
for f in etc/*.conf; do
	cmp -s "$f" "$D/usr/share/seqcast/${f#etc/}" || fail "${f#etc/} differs from $f"
done
cmp -s tools/seqcast.lua "$D/usr/share/seqcast/seqcast.lua" || fail "seqcast.lua differs"
unit=$D/usr/lib/systemd/system/seqcast@.service
grep -q '^ExecStart=/usr/bin/seqcastd --config /etc/seqcast/cluster.conf --id %i$' "$unit" ||
    fail "the unit does not run /usr/bin/seqcastd: $(grep ExecStart "$unit")"
! grep -q /usr/local "$unit" "$D"/usr/share/man/man*/* ||
    fail "/usr/local left in the unit or a page: $(grep -l /usr/local "$unit" "$D"/usr/share/man/man*/*)"
grep -q /usr/share/seqcast/seqcast.lua "$D/usr/share/man/man8/seqcastd.8" ||
    fail "seqcastd(8) does not point at /usr/share/seqcast/seqcast.lua"
echo "  programs run (--version as built), unit and pages name /usr paths"

# each page renders and documents every option of its program
render() {
	if command -v man >/dev/null 2>&1; then
		LC_ALL=C MANWIDTH=80 man -l "$1" 2>"$T/render.err"
	else
		mandoc -T ascii "$1" 2>"$T/render.err" | sed "s/.$(printf '\b')//g"
	fi
}
how=$(command -v man >/dev/null 2>&1 && echo "man -l" || echo "mandoc -T ascii")
for page in man1/seqcast.1 man5/seqcast.conf.5 man8/seqcastd.8; do
	render "$D/usr/share/man/$page" >"$T/page" || fail "$how $page failed: $(cat "$T/render.err")"
	[ -s "$T/render.err" ] && fail "$how $page: $(cat "$T/render.err")"
	sections="NAME DESCRIPTION SEE_ALSO"
	case $page in man5/*) ;; *) sections="$sections SYNOPSIS EXIT_STATUS" ;; esac
	for s in $sections; do
		grep -q "^$(echo $s | tr _ ' ')\$" "$T/page" || fail "$page has no $s section"
	done
	case $page in
	man1/*) words=$("$BUILD/seqcast" --help | grep -o -- '--[a-z][a-z-]*' | sort -u) ;;
	man8/*) words=$("$BUILD/seqcastd" --help | grep -o -- '--[a-z][a-z-]*' | sort -u) ;;
	man5/*) words=$(grep -o '^;*[a-z_]* *=' etc/seqcast.conf | tr -d ';= ' | sort -u) ;;
	esac
	[ -n "$words" ] || fail "no options found to look for in $page"
	missing=""
	for w in $words; do
		grep -q -- "$w" "$T/page" || missing="$missing $w"
	done
	[ -z "$missing" ] || fail "$page does not document:$missing"
	echo "  $page renders ($how, $(wc -l <"$T/page") lines) and documents $(echo $words | wc -w) options/keys"
done

# lint
mandoc -T lint -W warning "$D"/usr/share/man/man*/* >"$T/lint" 2>&1 ||
    fail "mandoc -T lint: $(cat "$T/lint")"
mandoc -T lint -W style "$D"/usr/share/man/man*/* 2>&1 |
    grep -v 'referenced manual not found' >"$T/lint"
[ -s "$T/lint" ] && fail "mandoc -T lint (style): $(cat "$T/lint")"
echo "  mandoc -T lint: clean"

make -s uninstall BUILD="$BUILD" DESTDIR="$D" PREFIX=/usr >"$T/uninstall.out" 2>&1 ||
    fail "make uninstall: $(cat "$T/uninstall.out")"
left=$(find "$D" -mindepth 1 | sed "s|^$D/||" | tr '\n' ' ')
[ -z "$left" ] || fail "make uninstall left: $left"
echo "  make uninstall: $D is empty"
