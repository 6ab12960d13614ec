printf '%s\n' 'paste' 'The last backup could not be completed.' '..and there is not enough iCloud storage.' '.' 'how f-2' | fixit repl --rules tests/golden/data/repl-kb.yaml
