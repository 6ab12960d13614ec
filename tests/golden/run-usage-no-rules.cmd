fixit run --quiet
