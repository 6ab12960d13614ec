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
printf '\n== %s\n$ %s\n' "How fixit reached its conclusion, down to the matched text" \
	"echo 'iCloud Backup failed. There is not enough iCloud storage available' | fixit diagnose --explain"
echo 'iCloud Backup failed. There is not enough iCloud storage available' |
	"$FIXIT" diagnose --explain | sed -n '/^  explanation:/,$p' || true
printf '\n== %s\n$ %s\n' "A consultation, scripted (on a terminal, plain 'fixit' opens it interactively)" \
	"printf 'The last backup could not be completed.\\nwhy\\nno\\nyes\\nhow fix-wifi\\nquit\\n' | fixit repl"
printf 'The last backup could not be completed.\nwhy\nno\nyes\nhow fix-wifi\nquit\n' |
	"$FIXIT" repl 2>&1 | grep -v '^       [0-9])' || true
step "Run a small rule base with the engine alone" run rules/examples/triage.yaml
