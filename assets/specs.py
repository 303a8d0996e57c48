"""AssetSpecs generated from the registry: description, grain, column docs, zone."""


from collections.abc import Iterable

import dagster as dg

from ct_pipeline.metadata import load_registry
from ct_pipeline.metadata.column_schema import column_schema

# Downstream work waits for upstream blocking checks, in a run and under automation alike.
AUTOMATION = dg.AutomationCondition.eager() & dg.AutomationCondition.all_deps_blocking_checks_passed()


def table_schema(table: str) -> dg.TableSchema:
    return dg.TableSchema(
        columns=[
            dg.TableColumn(
                c["name"], c["type"], description=c["description"],
                constraints=dg.TableColumnConstraints(nullable=c["nullable"]),
                tags={"pii": c["pii"]},
            )
            for c in column_schema(table)
        ]
    )


def table_spec(table: str, deps: Iterable[str] = (), *, group: str | None = None) -> dg.AssetSpec:
    t = load_registry().table(table)
    return dg.AssetSpec(
        key=table,
        description=f"{t.description}\n\n**Grain:** {t.grain}.  **Zone:** {t.zone}.",
        group_name=group or t.layer,
        deps=list(deps),
        kinds={"duckdb"},
        tags={"zone": t.zone},
        metadata={
            "dagster/column_schema": table_schema(table),
            "grain": t.grain,
            "zone": t.zone,
            "primary_key": ", ".join(t.primary_key) or "—",
            # the columns the published ct.duckdb indexes for lookups of one value
            **({"lookup_index": ", ".join(t.lookup_index)} if t.lookup_index else {}),
        },
        automation_condition=AUTOMATION if deps else None,
    )
