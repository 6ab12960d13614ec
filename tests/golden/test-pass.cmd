fixit test -r tests/golden/data/test-kb.yaml
