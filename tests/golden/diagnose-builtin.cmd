echo "iCloud Backup failed. There is not enough iCloud storage available" | env -u FIXIT_RULES fixit diagnose --json | grep -o '"remedies": *\[{"id": *"[^"]*"'
