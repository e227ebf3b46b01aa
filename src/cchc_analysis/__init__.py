"""cchc-analysis: Vietnam public-administration reform indices, cleaned and analysed."""
