printf 'copied 3 of 0 files\n\nthe lamps flicker\n\ncopied 3 of 4 files\n' | fixit diagnose -r tests/golden/data/diagnose-faulty.yaml --limit 10
