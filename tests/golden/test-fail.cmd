# A failing run: each failure with expected vs got, and the why-not explanation of what is missing
fixit test -r tests/golden/data/test-kb.yaml tests/golden/data/test-cases; echo "exit $?"
