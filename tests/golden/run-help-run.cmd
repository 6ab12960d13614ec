fixit help run
