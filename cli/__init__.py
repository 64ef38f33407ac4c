"""The `imw` command line."""
