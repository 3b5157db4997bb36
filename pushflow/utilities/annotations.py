"""Task argument annotations (Prefect's `prefect.utilities.annotations`)."""

from runtime.annotations import BaseAnnotation, allow_failure, opaque, quote, unmapped

__all__ = ["BaseAnnotation", "allow_failure", "opaque", "quote", "unmapped"]
