fixit check tests/golden/data/check-errors.yaml
