fixit run tests/golden/data/run-hello.yaml -f tests/golden/data/run-guests.facts --strategy breadth -q
