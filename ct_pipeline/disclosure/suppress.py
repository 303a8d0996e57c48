"""Small-cell suppression of published tables: primary and secondary, linked tables included.

The method
----------
Every published table is a *cube*: each dimension (year, programme region, sex, exploitation type,
country, …) also takes the value ``total``, so the table carries all its margins itself. A **line**
is a set of cells that differ in one dimension only, together with the cell where that dimension is
``total`` (their sum; or, for a multi-valued dimension or persons counted once, their union). A
country and its region are a hierarchy: the countries of a region plus the region's subtotal form a
line, and so do the regions plus the grand total. A line with one unknown cell gives it away
(total minus the published parts), and what is worked out that way can give away more: the
*derivation closure* (`derive`) follows that chain to the end, across tables.

0. **What is released.** Only the slices some report reads (``released``: a donor's programme
   regions, programme and span of years, plus the whole population) are published; every other
   cell is withheld whatever its count. Such a cell needs no protection of its own - it may be
   worked out (Africa = world - Asia) - unless it is small: the difference of two released slices
   is protected like any other count.
1. **Primary suppression.** A count from 1 to k - 1 (k = 11 by default, CTDC's threshold) is withheld:
   published as empty with ``is_suppressed`` true. Zero cells are not rows: an absent combination
   is zero, and zero discloses no one.
2. **Secondary suppression.** Until nothing leaks: compute what anyone can work out from the
   published cells; a leak is
   - a small count (1 to k - 1) that can be worked out, or a withheld cell that can (it protects
     something: once known, what it protects follows);
   - a line whose total is known and whose unknown parts together hold 1 to k - 1 (a group smaller
     than k, revealed by subtraction; not applied to unions, whose totals do not add up).
   The leaks closest to the published cells are fixed first, each by withholding the *cheapest*
   published cell of the line that gave it away - or, one step further back, of the line that gave
   away one of its other cells, when that is cheaper. The cost of a cell is its count, times four
   for each ``total`` among its dimensions (a margin sits on more lines than its parts, so
   withholding it spreads further), times ten for a cell a donor's report reads; ties are broken
   by the cell's key, so the result is deterministic.
   The year is a dimension like any other, with its ``total``. A range of years a donor asked for
   (e.g. 2001-2026) is published as its own period value, and the years *outside* it
   (``outside:2001-2026``) are a cell too - never published, but anyone gets it as total - range.
   Lines: the years of the range against the range, the years outside against the outside cell,
   and range + outside against the all-years total. Tables that need no single years
   (``yearly=False``: the pyramid and the route tables, read for all years or a donor's span) hold
   only the total, the ranges and their outside cells - far fewer small cells to protect - and
   combinations no chart reads are not crossed at all (``not_crossed``: the three-way route cells).
3. **Linked tables.** Tables that count the same population share cells (the cases of Asia in 2010
   appear in the exploitation-type table, the sex × age table and both route tables). A shared cell
   is withheld everywhere as soon as it is withheld anywhere, and known everywhere as soon as it is
   known anywhere. Any total a chart or a CSV shows is a published cell of these tables, or a sum of
   published cells only (a lower bound, said so).

Guarantee and limits: at the fixed point no published count is below k, no small or withheld cell
follows from the published ones line by line, and no known total reveals a withheld group below k;
the blocking check (`check_disclosure`) re-proves the first and the last on the database (from the
published cells alone: it works out every withheld cell it can and requires each to be 0 or ≥ k).
A linear-programming audit over several lines at once (as tau-argus does) is not run: in rare
patterns a combination of lines can narrow a withheld cell's range; the tests run an exact
linear-algebra audit on small tables. Successive releases are not compared with each other: a count
that changes between two data vintages reveals the cases added in between, as in any periodic
statistic.
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
    #: combinations of dimensions never published together (their cross-classification is not read,
    #: and every small cell in it would need protecting): cells crossing all of one are left out
    not_crossed: tuple[frozenset[str], ...] = ()
    #: False: the ranged dimension holds no single years, only the total and the ranges (with
    #: their unpublished outside cells)
    yearly: bool = True

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
OUTSIDE = "outside:"
#: set to a list to record why each cell was withheld (maintainers' debugging)
TRACE: list | None = None
#: a cell a donor's report reads costs this many times its count to withhold
PREFERRED_WEIGHT = 10
#: each ``total`` among a cell's dimensions multiplies its cost by this
MARGIN_WEIGHT = 4


def is_range(col: str) -> pl.Expr:
    """A period value such as 2001-2026: the sum of the years it spans."""
    return pl.col(col).str.contains(RANGE_PATTERN)


def outside_label(period_range: str) -> str:
    """The period value of the years outside a range: all years minus the range (never published)."""
    return OUTSIDE + period_range


def is_outside(col: str) -> pl.Expr:
    return pl.col(col).str.starts_with(OUTSIDE)


def _select_line(cells: pl.DataFrame, key: pl.Expr, is_total: pl.Expr, additive: bool, cell_col: str) -> pl.DataFrame:
    return cells.select(key.alias("line"), pl.col(cell_col).alias("cell"), is_total.alias("is_total"),
                        pl.lit(additive).alias("additive"))


def line_members(cells: pl.DataFrame, spec: CubeSpec, cell_col: str = "cell") -> pl.DataFrame:
    """(line, cell, is_total, additive) for every line of a table that has a total and a part.

    Along the ranged dimension, a range r (e.g. 2001-2026) makes three more lines: its years with r
    as their total, the years outside it with ``outside:r`` as theirs, and r + ``outside:r`` with the
    all-years total. The plain line along that dimension is the single years with the total."""
    frames = []
    for d in spec.dims:
        others = [c for c in spec.dims if c != d]

        def key(tag: str, d=d, others=others) -> pl.Expr:
            # a 64-bit hash names the line (its text would cost memory on large cubes)
            return pl.concat_str([pl.lit(f"{spec.table}{_SEP}{d}{_SEP}{tag}"), *[pl.col(o) for o in others]],
                                 separator=_SEP).hash(seed=20001)

        additive = spec.additive(d)
        if d != spec.ranged:
            frames.append(_select_line(cells, key(""), pl.col(d) == TOTAL, additive, cell_col))
            continue
        year = pl.col(d).cast(pl.Int64, strict=False)
        frames.append(_select_line(cells.filter(year.is_not_null() | (pl.col(d) == TOTAL)), key(""),
                                   pl.col(d) == TOTAL, additive, cell_col))
        for r in cells.filter(is_range(d))[d].unique().sort().to_list():
            lo, hi = (int(x) for x in r.split("-"))
            inside = year.is_between(lo, hi)
            outside = outside_label(r)
            frames.append(_select_line(cells.filter(inside | (pl.col(d) == r)), key("in" + r),
                                       pl.col(d) == r, additive, cell_col))
            frames.append(_select_line(cells.filter((year.is_not_null() & ~inside) | (pl.col(d) == outside)),
                                       key("rest" + r), pl.col(d) == outside, additive, cell_col))
            frames.append(_select_line(cells.filter(pl.col(d).is_in([r, outside, TOTAL])), key("out" + r),
                                       pl.col(d) == TOTAL, additive, cell_col))
    lines = pl.concat(frames)
    shape = lines.group_by("line").agg(
        pl.col("is_total").sum().alias("n_total"), (~pl.col("is_total")).sum().alias("n_parts")
    )
    keep = shape.filter((pl.col("n_total") == 1) & (pl.col("n_parts") >= 1)).select("line")
    return lines.join(keep, on="line", how="semi")


def derive(line: np.ndarray, member: np.ndarray, is_total: np.ndarray, additive: np.ndarray,
           known: np.ndarray, group: np.ndarray | None = None,
           n_lines: int | None = None) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """What anyone can work out from the published cells: a line with a single unknown cell gives
    it away (total minus the other parts, or the sum of the parts), and so on until nothing more
    follows. A union line (persons counted once) gives away an unknown part - its lower bound, taken
    as known to be safe - but never its total. Linked cells (`group`) are known together.

    Returns the closure of `known` (one flag per cell), per cell the line it was derived from (-1:
    published or unknown) and the step at which it was (0: published; a cell of step n needs cells
    of step n - 1)."""
    known = known.copy()
    step = np.zeros(len(known), dtype=np.int64)
    n_lines = n_lines if n_lines is not None else (int(line.max()) + 1 if len(line) else 0)
    via = np.full(len(known), -1, dtype=np.int64)
    derivable = additive | ~is_total
    n_groups = int(group.max()) + 1 if group is not None and len(group) else 0
    n = 0
    while True:
        n += 1
        unknown = ~known[member]
        n_unknown = np.bincount(line, weights=unknown, minlength=n_lines)
        new = (n_unknown[line] == 1) & unknown & derivable
        if not new.any():
            return known, via, step
        cells = member[new]
        via[cells] = line[new]
        step[cells] = n
        known[cells] = True
        if group is not None:  # a twin in another table is the same count: known as well
            spread = (np.bincount(group, weights=known, minlength=n_groups)[group] > 0) & ~known
            if spread.any():
                line_of_group = np.full(n_groups, -1, dtype=np.int64)
                np.maximum.at(line_of_group, group, via)
                via[spread] = line_of_group[group[spread]]
                step[spread] = n
                known |= spread


def suppress(cubes: dict[str, pl.DataFrame], specs: dict[str, CubeSpec], k: int = DEFAULT_K,
             max_rounds: int = 10_000) -> dict[str, pl.DataFrame]:
    """Apply primary and secondary suppression to linked cubes.

    `cubes[table]` has the spec's dimension columns (text, with ``total``) and a ``value`` column
    (the true count); an optional boolean ``released`` column marks the cells to publish (the others
    are withheld whatever their count; default: all), an optional ``preferred`` column the cells
    reports read, withheld last when a line leaves a choice (default: the spans of years). Cells of the years outside a
    range (``outside:…``) take part in the lines but are never returned. Returns, per table, the
    dimensions, the published count column (null when withheld) and ``is_suppressed``."""
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
        outside = is_outside(spec.ranged) if spec.ranged in spec.dims else pl.lit(False)
        released = pl.col("released").fill_null(False) if "released" in c.columns else pl.lit(True)
        value = pl.col("value").cast(pl.Int64)
        # a margin sits on more lines than the cells it adds up: withholding it means withholding
        # in each of them too, so each total in a cell's key makes it dearer
        level = pl.sum_horizontal([(pl.col(d) == TOTAL).cast(pl.Int64) for d in spec.dims])
        weight = pl.lit(MARGIN_WEIGHT, pl.Float64).pow(level)
        c = c.with_columns((pl.when(preferred).then(value * PREFERRED_WEIGHT).otherwise(value) * weight).alias("cost"),
                           (released & ~outside).alias("released"))
        frames.append(c.select("cell", "key", value, "cost", "released"))
        line_frames.append(line_members(c, spec))
    cells = pl.concat(frames)
    value = cells["value"].to_numpy()
    group = cells["key"].rank("dense").cast(pl.Int64).to_numpy() - 1  # linked cells share a group
    key_rank = cells["key"].rank("ordinal").cast(pl.Int64)
    cost = cells["cost"]
    # members of every line, in the order a cell is chosen to be withheld next: cheapest first
    lines = (
        pl.concat(line_frames)
        .with_columns(pl.col("line").rank("dense").cast(pl.Int64) - 1,
                      pl.col("cell").map_batches(lambda c: cost.gather(c)).alias("cost"),
                      pl.col("cell").map_batches(lambda c: key_rank.gather(c)).alias("key_rank"))
        .sort(["line", "cost", "key_rank"])
    )
    line = lines["line"].to_numpy()
    member = lines["cell"].to_numpy()
    is_total = lines["is_total"].to_numpy()
    additive = lines["additive"].to_numpy()
    member_value = value[member]
    member_cost = lines["cost"].to_numpy().astype(np.float64)
    n_lines = int(line.max()) + 1 if len(line) else 0
    n_groups = int(group.max()) + 1 if len(group) else 0
    union_free = np.bincount(line, weights=~additive, minlength=n_lines) == 0

    # unpublished by design: cells outside every released slice, and the years outside a range
    hidden = ~cells["released"].to_numpy()
    primary = (value > 0) & (value < k)
    supp = primary & ~hidden
    for _round in range(max_rounds):
        # a published cell withheld anywhere is withheld in every table that shares it
        supp = (np.bincount(group, weights=supp, minlength=n_groups)[group] > 0) & ~hidden
        known, via, step = derive(line, member, is_total, additive, ~(supp | hidden), group, n_lines)
        # violations: a withheld or small count that can be worked out, or unknown parts that a
        # known total shows to hold fewer than k together
        # a withheld cell must stay unknown (else what it protects follows); a cell that is just not
        # released may be worked out unless it is small
        bad = np.zeros(n_lines, dtype=bool)
        bad_step = np.full(n_lines, np.iinfo(np.int64).max)
        leaked = (primary | supp) & known & (via >= 0)
        bad[via[leaked]] = True
        np.minimum.at(bad_step, via[leaked], step[leaked])
        unknown = ~known[member]
        total_known = np.bincount(line, weights=~unknown & is_total, minlength=n_lines) > 0
        hidden_sum = np.bincount(line, weights=member_value * (unknown & ~is_total), minlength=n_lines)
        small_sum = total_known & (hidden_sum > 0) & (hidden_sum < k) & union_free
        line_step = np.zeros(n_lines, dtype=np.int64)
        np.maximum.at(line_step, line, np.where(unknown, 0, step[member]))
        bad |= small_sum
        bad_step = np.where(small_sum, np.minimum(bad_step, line_step), bad_step)
        if not bad.any():
            break
        # fix the leaks that follow most directly from published cells first: a leak further down
        # a chain of worked-out cells often disappears with them
        bad &= bad_step == bad_step[bad].min()
        # withhold the cheapest published cell of each bad line - or, when cheaper, hide again a
        # cell of the line that was itself worked out elsewhere, by withholding in *that* line
        # (one step of look-ahead: it keeps a cheap pair of withheld cells from pulling in a big one)
        open_ = ~supp[member] & ~hidden[member]
        cheapest = np.full(n_lines, np.inf)
        np.minimum.at(cheapest, line[open_], member_cost[open_])
        worked_out = known[member] & ~open_ & (via[member] >= 0) & (via[member] != line)
        alt = np.where(worked_out, cheapest[np.where(worked_out, via[member], 0)], np.inf)
        order = np.lexsort((alt, line))
        _, first_alt = np.unique(line[order], return_index=True)
        best = order[first_alt]  # per line (that has members), the member with the cheapest elsewhere
        redirect = np.zeros(n_lines, dtype=bool)
        target = np.full(n_lines, -1, dtype=np.int64)
        lines_with = line[best]
        take = bad[lines_with] & (alt[best] < cheapest[lines_with])
        redirect[lines_with[take]] = True
        target[lines_with[take]] = via[member[best[take]]]
        bad[redirect] = False
        bad[target[redirect]] = True
        # a line with nothing left to withhold was worked out from other lines: break those instead
        for _depth in range(64):
            candidate = bad[line] & ~supp[member] & ~hidden[member]
            stuck = bad & ~(np.bincount(line, weights=candidate, minlength=n_lines) > 0)
            if not stuck.any():
                break
            # the smallest worked-out cell of the line is usually the cheapest to hide again
            derived = stuck[line] & known[member] & (via[member] >= 0) & (via[member] != line)
            _, first_derived = np.unique(line[derived], return_index=True)
            upstream = via[member[derived][first_derived]] if _depth < 32 else via[member[derived]]
            bad[stuck] = False
            bad[upstream] = True
        candidate = bad[line] & ~supp[member] & ~hidden[member]
        if not candidate.any():
            raise RuntimeError("secondary suppression found a disclosure it cannot remove")
        _, first = np.unique(line[candidate], return_index=True)
        supp[member[candidate][first]] = True
        if TRACE is not None:  # for maintainers: which line made which cell withheld, in which round
            TRACE.append({"cells": member[candidate][first], "lines": line[candidate][first]})
    else:  # pragma: no cover - the number of cells bounds the rounds
        raise RuntimeError("secondary suppression did not converge")
    supp |= hidden
    state = pl.DataFrame({"suppressed": supp})

    out = {}
    offset = 0
    for name, cube in cubes.items():
        spec = specs[name]
        flags = state["suppressed"].slice(offset, cube.height)
        offset += cube.height
        published = cube.with_columns(flags.alias("is_suppressed"))
        if spec.ranged in spec.dims:
            published = published.filter(~is_outside(spec.ranged))
        out[name] = published.select(
            *spec.dims,
            pl.when(pl.col("is_suppressed")).then(None).otherwise(pl.col("value")).cast(pl.Int64).alias(spec.count),
            "is_suppressed",
        )
    return out
