fixit run tests/golden/data/run-hello.yaml --frobnicate
