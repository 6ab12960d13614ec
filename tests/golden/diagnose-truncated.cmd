{ printf 'not enough storage '; head -c 1100000 /dev/zero | tr '\0' a; printf '\n\nerror 4013\n'; } | fixit diagnose -r tests/golden/data/diagnose-kb.yaml
