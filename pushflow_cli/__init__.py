"""The `pushflow` command line."""
