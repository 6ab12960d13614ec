fixit check --format yaml; echo "exit $?"; fixit check tests/golden/data/no-such.yaml; echo "exit $?"; fixit check --format json tests/golden/data/no-such.yaml; echo "exit $?"
