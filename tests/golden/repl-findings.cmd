# The diagnosis and `how` name each finding by the kb's title (findings.yaml) after its id
printf '%s\n' 'paste' 'iCloud Backup failed. There is not enough iCloud storage available' '.' 'no' 'diagnosis' 'how icloud-storage-full' 'quit' | env -u FIXIT_RULES fixit repl | sed -n '/^Findings:/,/^Remedies/p; /^Finding /p'
