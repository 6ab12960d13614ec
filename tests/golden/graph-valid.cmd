# The built-in kb and the examples as DOT: parsed by Graphviz when it is installed (optional),
# and always checked for the statement shape fixit writes (one statement a line).
f=$(mktemp) || exit 2
for kb in "" rules/examples/triage.yaml tests/golden/data/test-kb.yaml; do
  fixit graph $kb > "$f" || echo "fixit graph $kb: exit $?"
  if command -v dot > /dev/null; then dot -Tcanon "$f" > /dev/null || echo "dot rejects graph $kb"; fi
  awk 'NR == 1 && $0 != "digraph fixit {" { bad = 1 } NR > 1 && !/^\t(\/\*.*\*\/|.*;)$/ && $0 != "}" { bad = 1 } END { if (bad || $0 != "}") print "malformed graph" }' "$f"
done; rm -f "$f"; echo checked
