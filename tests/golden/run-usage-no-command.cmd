fixit
