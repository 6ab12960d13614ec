fixit coverage --json -r tests/golden/data/cov-kb.yaml -b tests/golden/data/cov-old.yaml --lines tests/golden/data/cov-corpus/alerts.txt
