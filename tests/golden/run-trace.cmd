fixit run tests/golden/data/run-hello.yaml --facts tests/golden/data/run-guests.facts --trace
