"""ct_pipeline: counter-trafficking case-data pipeline (the domain library; never imports dagster)."""

__version__ = "0.1.0"
