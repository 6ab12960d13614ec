fixit diagnose -r tests/golden/data/diagnose-kb.yaml tests/golden/data/no-such-file.txt - tests/golden/data/diagnose-messages.txt < tests/golden/data/diagnose-messages.txt
