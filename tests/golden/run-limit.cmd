fixit run tests/golden/data/run-loop.yaml --limit 10 --trace
