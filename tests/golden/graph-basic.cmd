fixit graph tests/golden/data/graph-kb.yaml
