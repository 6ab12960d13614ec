fixit coverage -r tests/golden/data/test-kb.yaml tests/golden/data/test-cases tests/golden/data/cov-corpus/alerts.txt
