fixit diagnose -r tests/golden/data/no-such-kb.yaml tests/golden/data/diagnose-messages.txt
