#!/bin/sh
# check-seating.sh: checks the seating printed by bench/manners.yaml.
# Usage: check-seating.sh OUTPUT [FACTS]. OUTPUT is what `fixit run bench/manners.yaml` printed
# (its `seat N: NAME` lines); the guests come from `(guest ...)` facts in FACTS (the data file)
# or, when FACTS is not given, in OUTPUT's final fact listing (a run without --quiet).
# Exits 0 when every seat 1..last_seat is taken once, every guest sits exactly once, and each two
# neighbours are of opposite sex and share a hobby; otherwise prints why and exits 1.

if [ $# -lt 1 ] || [ $# -gt 2 ]; then
	echo "usage: check-seating.sh OUTPUT [FACTS]" >&2
	exit 2
fi
out=$1
facts=${2:-$1}
for f in "$out" "$facts"; do
	if [ ! -r "$f" ]; then
		echo "check-seating: cannot read $f" >&2
		exit 2
	fi
done

# Two passes: the first file gives guests and last_seat, the second the printed seats.
awk '
function slot(text, name,    rest) {
	# value of "(name VALUE)" in a CLIPS-style fact
	if (!match(text, "\\(" name " [^)]*\\)")) return ""
	rest = substr(text, RSTART + length(name) + 2, RLENGTH - length(name) - 3)
	return rest
}
FNR == NR {
	if ($0 ~ /\(guest /) {
		n = slot($0, "name"); s = slot($0, "sex"); h = slot($0, "hobby")
		if (!(n in sex)) { guests++; sex[n] = s }
		else if (sex[n] != s) { print "check-seating: guest " n " has two sexes"; bad = 1 }
		hobby[n, h] = 1
	} else if ($0 ~ /\(last_seat /) {
		last = slot($0, "seat") + 0
	}
	next
}
/^seat [0-9]+: / {
	s = $2; sub(/:$/, "", s); s += 0
	n = $3
	if (s in at) { print "check-seating: seat " s " taken twice"; bad = 1 }
	at[s] = n
	if (n in seated) { print "check-seating: " n " seated twice"; bad = 1 }
	seated[n] = s
	nseats++
}
END {
	if (guests == 0) { print "check-seating: no guests found"; exit 1 }
	if (last == 0) last = guests
	if (nseats == 0) { print "check-seating: no seating printed"; exit 1 }
	if (last != guests) { print "check-seating: " guests " guests for " last " seats"; bad = 1 }
	for (s = 1; s <= last; s++) {
		if (!(s in at)) { print "check-seating: seat " s " is empty"; bad = 1; continue }
		if (!(at[s] in sex)) { print "check-seating: seat " s ": unknown guest " at[s]; bad = 1 }
	}
	for (n in sex)
		if (!(n in seated)) { print "check-seating: " n " has no seat"; bad = 1 }
	for (s = 1; s < last; s++) {
		if (!(s in at) || !((s + 1) in at)) continue
		a = at[s]; b = at[s + 1]
		if (sex[a] == sex[b]) { print "check-seating: seats " s "-" s + 1 ": " a " and " b " are both " sex[a]; bad = 1 }
		shared = 0
		for (k in hobby) {
			split(k, p, SUBSEP)
			if (p[1] == a && ((b, p[2]) in hobby)) { shared = 1; break }
		}
		if (!shared) { print "check-seating: seats " s "-" s + 1 ": " a " and " b " share no hobby"; bad = 1 }
	}
	if (bad) exit 1
	print "seating ok: " last " guests"
}
' "$facts" "$out"
