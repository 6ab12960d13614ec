fixit --version && fixit version
