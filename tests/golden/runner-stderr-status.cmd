printf "to stdout\n"; echo "to stderr" >&2; exit 3
