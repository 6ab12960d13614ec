fixit test --json -r tests/golden/data/test-kb.yaml tests/golden/data/test-cases/more.yaml
