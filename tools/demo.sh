#!/usr/bin/env bash
# demo.sh: what `make demo` shows: the fixit CLI at work on the example knowledge base.
# Run from anywhere after a build; FIXIT names the binary (default build/fixit). To show a new
# command, add a `step` line at the bottom.
set -euo pipefail
cd "$(dirname "$0")/.."
FIXIT=${FIXIT:-build/fixit}

# step TITLE ARGS...: print the title and the command line, then run fixit with ARGS.
step() {
	local title=$1
	shift
	printf '\n== %s\n$ fixit %s\n' "$title" "$*"
	"$FIXIT" "$@"
}

if [ ! -x "$FIXIT" ]; then
	echo "demo: $FIXIT is not built; run make first" >&2
	exit 1
fi
if [ ! -d rules/examples ]; then
	echo "demo: rules/examples/ does not exist yet" >&2
	exit 1
fi

step "Diagnose pasted messages with the built-in iPhone-backup knowledge base" \
	diagnose rules/examples/iphone-messages.txt || true
printf '\n== %s\n$ fixit %s | head -n 1\n' "The same, as JSON Lines for scripts (first case)" \
	"diagnose --json rules/examples/iphone-messages.txt"
"$FIXIT" diagnose --json rules/examples/iphone-messages.txt | head -n 1 || true
step "Run a small rule base with the engine alone" run rules/examples/triage.yaml
