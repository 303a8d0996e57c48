"""The Dagster layer: thin definitions over ct_pipeline. Each asset calls one library step."""
