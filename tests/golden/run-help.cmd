fixit --help
