fixit run -qftests/golden/data/run-guests.facts --limit=2 -- tests/golden/data/run-hello.yaml
