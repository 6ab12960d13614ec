# FIXIT_RULES names the kb of the REPL too (empty parts skipped); a missing path is an error
printf 'rules\nquit\n' | FIXIT_RULES=::tests/golden/data/repl-kb.yaml: fixit repl | head -n 2; printf 'quit\n' | FIXIT_RULES=tests/golden/data/no-such-kb.yaml fixit repl; echo "exit $?"
