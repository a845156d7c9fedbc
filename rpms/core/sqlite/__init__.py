"""The SQLite backend of the embedded default (see `base`)."""
