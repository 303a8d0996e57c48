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


key_app = typer.Typer(help="The pseudonymisation key (lives outside the repository).", no_args_is_help=True)
vault_app = typer.Typer(help="The identity vault (restricted zone; data custodians only).", no_args_is_help=True)
app.add_typer(key_app, name="key")
app.add_typer(vault_app, name="vault")


@app.command()
def scan(raw: RawOpt = None) -> None:
    """Report per export era what the exports folder holds (files and records), without loading."""
    from ct_pipeline.ingest import survey_exports

    s = _settings(raw)
    survey = survey_exports(s.raw_exports_dir)
    _print_table(f"Exports in {s.raw_exports_dir}", survey)


def _print_table(title: str, survey: dict[str, dict[str, int]]) -> None:
    from rich.table import Table

    cols = sorted({k for v in survey.values() for k in v})
    table = Table(title=title)
    table.add_column("era")
    for c in cols:
        table.add_column(c, justify="right")
    for era, counts in sorted(survey.items()):
        table.add_row(era, *[f"{counts.get(c, 0):,}" for c in cols])
    out.print(table)


@app.command()
def run(
    raw: RawOpt = None, wh: WhOpt = None, key: KeyOpt = None,
    direct: Annotated[bool, typer.Option("--direct", help="Call the library steps without Dagster.")] = False,
    mission: Annotated[list[str] | None, typer.Option(help="Only this mission's exports (repeatable).")] = None,
    file: Annotated[list[str] | None, typer.Option(help="Only this export file, relative to the exports folder (repeatable).")] = None,
    reload: Annotated[bool, typer.Option(help="Re-ingest the selected files even if seen before.")] = False,
    no_png: Annotated[bool, typer.Option("--no-png", help="Skip PNG rendering of charts (HTML only).")] = False,
) -> None:
    """Run the whole graph in-process: ingest, core, marts, disclosure, publish, reports."""
    from ct_pipeline.runner import run_pipeline

    s = _settings(raw, wh, key)
    ok = run_pipeline(s, direct=direct, missions=mission, files=file, reload=reload, png=not no_png, log=console.print)
    raise typer.Exit(0 if ok else 1)


@app.command()
def status(
    raw: RawOpt = None, wh: WhOpt = None,
    as_json: Annotated[bool, typer.Option("--json", help="Machine-readable output.")] = False,
) -> None:
    """Print the ingestion ledger: one line per export file with its status and row accounting."""
    from ct_pipeline.ingest import ledger_rows
    from ct_pipeline.warehouse import build_db_path, open_build

    s = _settings(raw, wh)
    path = build_db_path(s)
    rows: list[dict] = []
    if path.exists():
        con = open_build(path, read_only=True)
        try:
            rows = ledger_rows(con)
        finally:
            con.close()
    if as_json:
        sys.stdout.write(json.dumps(rows, indent=1, default=str) + "\n")
        return
    from rich.table import Table

    table = Table(title=f"Ingestion ledger ({len(rows)} files)")
    for c in ("source_file", "era", "file_status", "rows_read", "rows_staged", "rows_quarantined", "rows_duplicate", "error_message"):
        table.add_column(c, overflow="fold")
    for r in rows:
        table.add_row(*[str(r.get(c) if r.get(c) is not None else "") for c in (
            "source_file", "era", "file_status", "rows_read", "rows_staged", "rows_quarantined", "rows_duplicate", "error_message")])
    out.print(table)


@app.command()
def query(
    sql: Annotated[str, typer.Argument(help="A read-only SQL query against warehouse/ct.duckdb.")],
    wh: WhOpt = None,
    fmt: Annotated[str, typer.Option("--format", "-f", help="table, csv or json.")] = "table",
) -> None:
    """Query the published analyst warehouse (read-only)."""
    import duckdb

    from ct_pipeline.warehouse import QueryRefused
    from ct_pipeline.warehouse import query as _query

    try:
        sys.stdout.write(_query(_settings(None, wh), sql, fmt=fmt) + "\n")
    except (QueryRefused, FileNotFoundError, duckdb.Error) as e:
        console.print(f"[red]{e}[/red]")
        raise typer.Exit(2) from None


@key_app.command("init")
def key_init(
    key: KeyOpt = None,
    version: Annotated[str, typer.Option(help="Key version recorded with every token.")] = "v1",
    force: Annotated[bool, typer.Option(help="Allow a key file inside the repository (not recommended).")] = False,
) -> None:
    """Write a new 256-bit key file (mode 0600) outside the repository."""
    from ct_pipeline.pseudonymize import init_key

    s = _settings(None, None, key)
    k = init_key(s.key_file, version=version, force=force)
    console.print(f"New pseudonymisation key {k.version} written to {s.key_file} (mode 0600). Keep it safe: "
                  "without it tokens cannot be reproduced and the vault cannot be opened.")


@key_app.command("rotate")
def key_rotate(key: KeyOpt = None, wh: WhOpt = None) -> None:
    """Make the next key, re-tokenise the vault and staging consistently; old→new map stays restricted."""
    from ct_pipeline.pseudonymize import load_key, rotate_key
    from ct_pipeline.warehouse import connect_build

    s = _settings(None, wh, key)
    old = load_key(s.key_file)
    con = connect_build(s)
    try:
        new, report = rotate_key(con, old, s.key_file)
    finally:
        con.close()
    console.print(f"Key rotated {old.version} → {new.version}: {report}")
    console.print("Run `ct-pipeline run` to rebuild and republish the warehouse with the new tokens.")


@vault_app.command("lookup")
def vault_lookup_cmd(
    token: Annotated[str, typer.Argument(help="A case_token, person_token or identity token.")],
    reason: Annotated[str, typer.Option(help="Why you need the identity (required, audited).")],
    who: Annotated[str | None, typer.Option(help="Who is asking (default: your login).")] = None,
    key: KeyOpt = None, wh: WhOpt = None,
) -> None:
    """Re-identify a token for case management. Every lookup is written to the audit log."""
    from ct_pipeline.pseudonymize import load_key, vault_lookup
    from ct_pipeline.warehouse import connect_build

    s = _settings(None, wh, key)
    con = connect_build(s)
    try:
        found = vault_lookup(con, load_key(s.key_file), token, reason=reason, who=who)
    finally:
        con.close()
    sys.stdout.write(json.dumps(found, indent=1, default=str, ensure_ascii=False) + "\n")


@app.command()
def demo(
    cases: Annotated[int | None, typer.Option(help="Synthetic cases (default: the calibrated demo size).")] = None,
    seed: Annotated[int, typer.Option(help="Seed of the synthetic exports.")] = 1,
    direct: Annotated[bool, typer.Option("--direct", help="Run the library steps without Dagster.")] = False,
) -> None:
    """Generate synthetic exports (if the exports folder is empty), run everything, say where outputs are."""
    from ct_pipeline.runner import run_demo

    ok = run_demo(_settings(), cases=cases, seed=seed, direct=direct, log=console.print)
    raise typer.Exit(0 if ok else 1)


@app.command()
def bench(
    cases: Annotated[int, typer.Option(help="Synthetic cases to benchmark.")] = 1_000_000,
    seed: Annotated[int, typer.Option(help="Seed of the synthetic exports (cached by size and seed).")] = 1,
    out_dir: Annotated[Path, typer.Option("--out", help="Where results-<cases>.json/.md go.")] = Path("bench"),
    cache_dir: Annotated[Path | None, typer.Option("--cache", help="Cache of generated exports (default ~/.cache/ct_pipeline/bench).")] = None,
    no_dagster: Annotated[bool, typer.Option("--no-dagster", help="Skip the end-to-end Dagster run.")] = False,
    no_incremental: Annotated[bool, typer.Option("--no-incremental", help="Skip both nights (the ~1% and the 10-record one).")] = False,
    charts: Annotated[bool, typer.Option(help="Include PNG charts.")] = False,
    repeat: Annotated[int | None, typer.Option(
        min=1, help="End-to-end runs, each followed by a read of the floors; the ratio is their median "
                    "(default: 3 up to 1,000,000 cases, else 1).")] = None,
) -> None:
    """Benchmark the whole pipeline against the read floor (stages, Dagster, incremental, queries)."""
    from ct_pipeline.bench import default_repeat, run_bench

    cache_dir = cache_dir or Path.home() / ".cache" / "ct_pipeline" / "bench"
    result = run_bench(cases, seed, out_dir, cache_dir, dagster=not no_dagster,
                       incremental=not no_incremental, charts=charts,
                       repeat=repeat or default_repeat(cases), log=console.print)
    raise typer.Exit(1 if result.get("errors") else 0)


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
