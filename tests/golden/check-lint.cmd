fixit check tests/golden/data/check-lint.yaml; echo "exit $?"; fixit check --strict --format json tests/golden/data/check-lint.yaml | tail -n 1; echo "exit ${PIPESTATUS[0]}"
