printf '(guest (name dee))\n' | fixit run tests/golden/data/run-hello.yaml --facts -
