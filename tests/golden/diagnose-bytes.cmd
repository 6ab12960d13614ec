printf 'While backing up "Ada\377s\000phone\tX\302\205" it failed: error 0xE8000015\r\nThe device was disconnected\033[0m.\n' | fixit diagnose -r tests/golden/data/diagnose-kb.yaml -
