"""One reader per publisher and format: raw file -> tidy frame (see base.py for the columns)."""
