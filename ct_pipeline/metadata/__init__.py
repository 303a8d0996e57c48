"""The registry of fields, tables and code lists, and what is generated from it."""

from ct_pipeline.metadata.registry import Column, Registry, load_registry

__all__ = ["Column", "Registry", "load_registry"]
