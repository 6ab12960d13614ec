printf "Backup failed\n\nnot enough storage\n" | fixit coverage --whole -r tests/golden/data/cov-kb.yaml -
