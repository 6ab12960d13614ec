# The commands of docs/authoring.md, in a scratch copy of the built-in kb. Counts that change
# whenever the built-in kb grows are left out; what the new file adds is kept.
root=$PWD; d=$(mktemp -d); cd "$d" || exit 2
cp -r "$root/rules/iphone-backup" my-kb && cp "$root/tests/golden/data/tutorial/messages.txt" .
echo "== before"; fixit diagnose --rules my-kb messages.txt | head -n 2
cp "$root/tests/golden/data/tutorial/enable-problem.yaml" my-kb/
echo "== check (diagnostics about the new file)"; fixit check my-kb 2>&1 >/dev/null | grep -c 'enable-problem\.yaml'; echo "exit ${PIPESTATUS[0]}"
echo "== test"; fixit test --rules my-kb | grep -v '^accuracy\|^false alarms\|^patterns:' | sed 's/^[0-9]* passed/N passed/'; echo "exit ${PIPESTATUS[0]}"
echo "== coverage"; fixit coverage --rules my-kb --baseline "$root/rules/iphone-backup" messages.txt | sed -n '/^against/,$p'
echo "== after"; fixit diagnose --rules my-kb messages.txt | sed -n '1,/^$/p'
cd "$root" && rm -rf "$d"
