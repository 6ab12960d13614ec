fixit rnu
