"""The `ct-pipeline` command. Each sub-command is a thin call into the library.

`ct-pipeline run` executes the Dagster graph in-process (dagster is imported lazily there, so the
library itself never imports it); `ct-pipeline run --direct` runs the same steps without Dagster.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console

from ct_pipeline.settings import Settings, get_settings

app = typer.Typer(
    help="Counter-trafficking case-data pipeline: ingest mission exports, build the warehouse, publish.",
    no_args_is_help=True,
    add_completion=False,
)
registry_app = typer.Typer(help="The registry of fields and tables, and what is generated from it.", no_args_is_help=True)
app.add_typer(registry_app, name="registry")

console = Console(stderr=True)
out = Console()

RawOpt = Annotated[Path | None, typer.Option("--raw-exports", help="Exports folder (env CT_RAW_EXPORTS_DIR).")]
WhOpt = Annotated[Path | None, typer.Option("--warehouse", help="Warehouse folder (env CT_WAREHOUSE_DIR).")]
KeyOpt = Annotated[Path | None, typer.Option("--key-file", help="Pseudonymisation key file (env CT_KEY_FILE).")]


def _settings(raw: Path | None = None, wh: Path | None = None, key: Path | None = None) -> Settings:
    return get_settings(raw, wh, key)


def _progress():
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    return Progress(
        TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(), console=console
    )


@app.command()
def synth(
    out_dir: Annotated[Path, typer.Option("--out", help="Folder to write the exports into.")],
    cases: Annotated[int | None, typer.Option(help="Number of cases (default: the calibrated demo size).")] = None,
    seed: Annotated[int, typer.Option(help="Random seed; same seed, byte-identical files.")] = 1,
    start_year: Annotated[int, typer.Option(help="First registration year.")] = 1999,
    end_year: Annotated[int, typer.Option(help="Last registration year.")] = 2026,
    truth: Annotated[Path | None, typer.Option(help="Ground-truth CSV (keep it outside the exports folder).")] = None,
    messiness: Annotated[float, typer.Option(help="Multiplier of every defect rate (0 = clean exports).")] = 1.0,
) -> None:
    """Generate synthetic mission exports of every era (with injected defects and a ground truth)."""
    from ct_pipeline.synth import SynthConfig, generate

    with _progress() as progress:
        task = progress.add_task("writing exports", total=None)

        def tick(done: int, total: int) -> None:
            progress.update(task, completed=done, total=total)

        summary = generate(
            out_dir, cases=cases, seed=seed, start_year=start_year, end_year=end_year, truth=truth,
            config=SynthConfig(messiness=messiness), progress=tick,
        )
    out.print_json(json.dumps(summary, default=str))


@registry_app.command("ddl")
def registry_ddl() -> None:
    """Print the DuckDB DDL (CREATE TABLE + COMMENT ON) generated from the registry."""
    from ct_pipeline.metadata.ddl import ddl

    sys.stdout.write(ddl())


@registry_app.command("dictionary")
def registry_dictionary(
    output: Annotated[Path | None, typer.Option("--out", help="Write to this file instead of stdout.")] = None,
) -> None:
    """Print (or write) the markdown data dictionary generated from the registry."""
    from ct_pipeline.metadata.dictionary import data_dictionary

    text = data_dictionary()
    if output:
        output.write_text(text, encoding="utf-8")
        console.print(f"data dictionary written to {output}")
    else:
        sys.stdout.write(text)


def main() -> None:
    app()


if __name__ == "__main__":
    main()
