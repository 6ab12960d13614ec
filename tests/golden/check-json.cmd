fixit check --format json tests/golden/data/check-errors.yaml
