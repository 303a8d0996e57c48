"""Small-cell suppression of published tables: primary and secondary, linked tables included.

The method
----------
Every published table is a *cube*: each dimension (year, programme region, sex, exploitation type,
country, …) also takes the value ``total``, so the table carries all its margins itself. A **line**
is a set of cells that differ in one dimension only, together with the cell where that dimension is
``total`` (their sum; or, for a multi-valued dimension or persons counted once, their union). A
country and its region are a hierarchy: the countries of a region plus the region's subtotal form a
line, and so do the regions plus the grand total.

1. **Primary suppression.** A count from 1 to k - 1 (k = 11 by default, CTDC's threshold) is withheld:
   published as empty with ``is_suppressed`` true. Zero cells are not rows: an absent combination
   is zero, and zero discloses no one.
2. **Secondary suppression.** A withheld cell must not be recoverable by subtraction. Until no line
   breaks a rule, for every line:
   - it may not hold exactly one withheld cell (else total - published parts = the withheld cell);
   - when its total is published, its withheld cells together must hold 0 or at least k (else the
     subtraction reveals a group smaller than k; applied to unions too, where it is conservative);
   a line that breaks a rule gets its smallest published cell withheld as well (a part before the
   total - except along dimensions whose parts are the point, such as sex in the pyramid - and the
   cells a donor's report reads (its regions, programme and years) last; ties broken by the cell's
   key, so the result is deterministic).
   The year is a dimension like any other, with its ``total``: a withheld year cannot be recovered
   from the all-years total or from the other years. A range of years a donor asked for (e.g.
   2001-2026) is published as its own period value and protected on two more lines: its years
   against the range, and the range with the years outside it against the all-years total.
3. **Linked tables.** Tables that count the same population share cells (the cases of Asia in 2010
   appear in the exploitation-type table, the sex × age table and both route tables). A shared cell
   is withheld everywhere as soon as it is withheld anywhere, and step 2 runs again until nothing
   changes. Any total a chart or a CSV shows is a published cell of these tables, or a sum of
   published cells only (a lower bound, said so).

Guarantee and limits: after the fixed point no published count is below k, no line of any published
table has exactly one withheld cell, and the withheld part of an additive line is 0 or ≥ k; the
blocking check (`check_disclosure`) re-proves this on the database. A linear-programming audit over
several lines at once (as tau-argus does) is not run: in rare patterns a combination of lines can
narrow a withheld cell's range; the tests run an exact linear-algebra audit on small tables.
Successive releases are not compared with each other: a count that changes between two data
vintages reveals the cases added in between, as in any periodic statistic.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import polars as pl

DEFAULT_K = 11
TOTAL = "total"
NOT_RECORDED = "not_recorded"
_SEP = "\x1f"


@dataclass(frozen=True)
class CubeSpec:
    """How a published table is shaped: its dimensions, hierarchies and count column."""

    table: str
    population: str
    count: str
    dims: tuple[str, ...]
    #: child dimension -> parent dimension (a child value is only given with its parent's)
    hierarchy: dict[str, str] = field(default_factory=dict)
    #: dimensions whose total is a union (multi-valued, or persons counted once), not a sum
    non_additive: frozenset[str] = frozenset()
    #: the dimension that may also hold year ranges (YYYY-YYYY), e.g. a donor's years
    ranged: str | None = "period"
    #: dimensions whose parts matter more than their total (a pyramid's women and men): on their
    #: lines the total is withheld before a part
    keep_parts: frozenset[str] = frozenset()

    def additive(self, dim: str) -> bool:
        return dim not in self.non_additive


def canonical_key(dims: tuple[str, ...]) -> pl.Expr:
    """One string per cell naming the population subset it counts: dim=value for its non-total dims,
    sorted by dimension name. Two tables' cells with the same key count the same persons."""
    parts = [
        pl.when(pl.col(d) != TOTAL).then(pl.lit(f"{d}=") + pl.col(d)).otherwise(None)
        for d in sorted(dims)
    ]
    return pl.concat_list(parts).list.drop_nulls().list.join("|")


RANGE_PATTERN = r"^\d{4}-\d{4}$"


def is_range(col: str) -> pl.Expr:
    """A period value such as 2001-2026: the sum of the years it spans."""
    return pl.col(col).str.contains(RANGE_PATTERN)


def _select_line(cells: pl.DataFrame, key: pl.Expr, is_total: pl.Expr, additive: bool, cell_col: str,
                 total_first: bool = False) -> pl.DataFrame:
    return cells.select(key.alias("line"), pl.col(cell_col).alias("cell"), is_total.alias("is_total"),
                        pl.lit(additive).alias("additive"), pl.lit(total_first).alias("total_first"))


def line_members(cells: pl.DataFrame, spec: CubeSpec, cell_col: str = "cell") -> pl.DataFrame:
    """(line, cell, is_total, additive) for every line of a table that has a total and a part.

    A period range (e.g. 2001-2026) makes two more lines: its years with the range as their total,
    and the range with the years outside it, whose total is the all-years total."""
    frames = []
    for d in spec.dims:
        others = [c for c in spec.dims if c != d]

        def key(tag: str, d=d, others=others) -> pl.Expr:
            # a 64-bit hash names the line (its text would cost memory on large cubes)
            return pl.concat_str([pl.lit(f"{spec.table}{_SEP}{d}{_SEP}{tag}"), *[pl.col(o) for o in others]],
                                 separator=_SEP).hash(seed=20001)

        if d != spec.ranged:
            frames.append(_select_line(cells, key(""), pl.col(d) == TOTAL, spec.additive(d), cell_col,
                                       d in spec.keep_parts))
            continue
        frames.append(_select_line(cells.filter(~is_range(d)), key(""), pl.col(d) == TOTAL, spec.additive(d), cell_col))
        year = pl.col(d).cast(pl.Int64, strict=False)
        for r in cells.filter(is_range(d))[d].unique().sort().to_list():
            lo, hi = (int(x) for x in r.split("-"))
            inside = year.is_between(lo, hi)
            frames.append(_select_line(cells.filter(inside | (pl.col(d) == r)), key("in" + r),
                                       pl.col(d) == r, spec.additive(d), cell_col))
            outside = year.is_not_null() & ~inside
            frames.append(_select_line(cells.filter(outside | (pl.col(d) == r) | (pl.col(d) == TOTAL)),
                                       key("out" + r), pl.col(d) == TOTAL, spec.additive(d), cell_col))
    lines = pl.concat(frames)
    shape = lines.group_by("line").agg(
        pl.col("is_total").sum().alias("n_total"), (~pl.col("is_total")).sum().alias("n_parts")
    )
    keep = shape.filter((pl.col("n_total") == 1) & (pl.col("n_parts") >= 1)).select("line")
    return lines.join(keep, on="line", how="semi")


def suppress(cubes: dict[str, pl.DataFrame], specs: dict[str, CubeSpec], k: int = DEFAULT_K,
             max_rounds: int = 10_000) -> dict[str, pl.DataFrame]:
    """Apply primary and secondary suppression to linked cubes.

    `cubes[table]` has the spec's dimension columns (text, with ``total``) and a ``value`` column
    (the true count); an optional boolean ``preferred`` column marks the cells reports read, withheld
    last when a line leaves a choice (default: the spans of years). Returns, per table, the dimensions, the published count column (null when
    withheld) and ``is_suppressed``."""
    if k < 1:
        raise ValueError("the disclosure threshold k must be at least 1")
    frames, line_frames = [], []
    offset = 0
    for name, cube in cubes.items():
        spec = specs[name]
        c = cube.with_columns(
            pl.int_range(offset, offset + cube.height, dtype=pl.Int64).alias("cell"),
            (pl.lit(spec.population + _SEP) + canonical_key(spec.dims)).alias("key"),
        )
        offset += cube.height
        if "preferred" in c.columns:  # cells an audience reads, kept published when there is a choice
            preferred = pl.col("preferred").fill_null(False)
        else:
            preferred = is_range(spec.ranged) if spec.ranged in spec.dims else pl.lit(False)
        frames.append(c.select("cell", "key", pl.col("value").cast(pl.Int64), preferred.alias("preferred")))
        line_frames.append(line_members(c, spec))
    cells = pl.concat(frames)
    value = cells["value"].to_numpy()
    group = cells["key"].rank("dense").cast(pl.Int64).to_numpy() - 1  # linked cells share a group
    key_rank = cells["key"].rank("ordinal").cast(pl.Int64)
    preferred = cells["preferred"]
    # members of every line, in the order a cell is chosen to be withheld next: cells a report asked
    # for (a donor's span of years) last, then parts before the total, smallest first, ties by key
    lines = (
        pl.concat(line_frames)
        .with_columns(pl.col("line").rank("dense").cast(pl.Int64) - 1,
                      pl.col("cell").map_batches(lambda c: pl.Series(value).gather(c)).alias("value"),
                      pl.col("cell").map_batches(lambda c: key_rank.gather(c)).alias("key_rank"),
                      pl.col("cell").map_batches(lambda c: preferred.gather(c)).alias("preferred"),
                      (pl.col("is_total") != pl.col("total_first")).alias("order_class"))
        .sort(["line", "preferred", "order_class", "value", "key_rank"])
    )
    line = lines["line"].to_numpy()
    member = lines["cell"].to_numpy()
    is_total = lines["is_total"].to_numpy()
    member_value = value[member]
    n_lines = int(line.max()) + 1 if len(line) else 0

    supp = (value > 0) & (value < k)
    for _ in range(max_rounds):
        supp = np.bincount(group, weights=supp, minlength=group.max() + 1 if len(group) else 0)[group] > 0
        s = supp[member]
        n_supp = np.bincount(line, weights=s, minlength=n_lines)
        total_supp = np.bincount(line, weights=s & is_total, minlength=n_lines) > 0
        parts = np.bincount(line, weights=member_value * (s & ~is_total), minlength=n_lines)
        bad = (n_supp == 1) | (~total_supp & (parts > 0) & (parts < k))
        pick = bad[line] & ~s
        if not pick.any():
            break
        _, first = np.unique(line[pick], return_index=True)
        supp[member[pick][first]] = True
    else:  # pragma: no cover - the number of cells bounds the rounds
        raise RuntimeError("secondary suppression did not converge")
    state = pl.DataFrame({"suppressed": supp})

    out = {}
    offset = 0
    for name, cube in cubes.items():
        spec = specs[name]
        flags = state["suppressed"].slice(offset, cube.height)
        offset += cube.height
        out[name] = cube.with_columns(flags.alias("is_suppressed")).select(
            *spec.dims,
            pl.when(pl.col("is_suppressed")).then(None).otherwise(pl.col("value")).cast(pl.Int64).alias(spec.count),
            "is_suppressed",
        )
    return out
