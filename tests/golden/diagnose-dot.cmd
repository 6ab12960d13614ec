fixit diagnose --dot --rules tests/golden/data/diagnose-kb.yaml tests/golden/data/diagnose-messages.txt
