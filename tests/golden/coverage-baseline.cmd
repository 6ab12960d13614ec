fixit coverage -r tests/golden/data/cov-kb.yaml --baseline tests/golden/data/cov-old.yaml tests/golden/data/cov-corpus
