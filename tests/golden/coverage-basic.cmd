fixit coverage --rules tests/golden/data/cov-kb.yaml tests/golden/data/cov-corpus
