fixit graph tests/golden/data/run-bad.yaml; echo "exit $?"; fixit graph --rules tests/golden/data/no-such.yaml; echo "exit $?"; fixit graph --bogus; echo "exit $?"
