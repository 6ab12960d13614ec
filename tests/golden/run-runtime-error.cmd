fixit run tests/golden/data/run-divide.yaml
