fixit run tests/golden/data/run-halt.yaml --trace
