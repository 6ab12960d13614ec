fixit run tests/golden/data/run-bad.yaml
