fixit run tests/golden/data/no-such-file.yaml
