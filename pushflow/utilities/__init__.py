"""Utilities (Prefect's `prefect.utilities`)."""
