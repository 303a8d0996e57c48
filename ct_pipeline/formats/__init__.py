"""Export eras and their column maps, loaded from the data files beside this module."""

from ct_pipeline.formats.eras import Era, column_map, flag_map, load_eras, not_recorded, signature

__all__ = ["Era", "column_map", "flag_map", "load_eras", "not_recorded", "signature"]
