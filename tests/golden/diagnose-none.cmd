echo 'Everything went fine today.' | fixit diagnose -r tests/golden/data/diagnose-kb.yaml
