env -u FIXIT_RULES fixit diagnose tests/golden/data/diagnose-messages.txt
