"""The one resource: where the pipeline's folders and key are (env vars honoured, as everywhere)."""


import dagster as dg

from ct_pipeline.settings import Settings, get_settings


class PipelineSettings(dg.ConfigurableResource):
    """Exports folder, warehouse folder and key file; empty means CT_* env var, then the default."""

    raw_exports_dir: str = ""
    warehouse_dir: str = ""
    key_file: str = ""

    def get(self) -> Settings:
        return get_settings(self.raw_exports_dir or None, self.warehouse_dir or None, self.key_file or None)
