fixit diagnose -r tests/golden/data/run-bad.yaml tests/golden/data/diagnose-messages.txt
