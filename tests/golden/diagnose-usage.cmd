fixit diagnose --lines --whole -r tests/golden/data/diagnose-kb.yaml
