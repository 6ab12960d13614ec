# The diagnosis names each finding by the kb's title (findings.yaml) after its id
printf '%s\n' 'paste' 'iCloud Backup failed. There is not enough iCloud storage available' '.' 'no' 'diagnosis' 'quit' | env -u FIXIT_RULES fixit repl | sed -n '/^Findings:/,/^Remedies/p'
