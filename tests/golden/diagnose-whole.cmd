printf 'error 4013\n\nThe device was disconnected.\n' | fixit diagnose --whole -r tests/golden/data/diagnose-kb.yaml tests/golden/data/diagnose-messages.txt -
