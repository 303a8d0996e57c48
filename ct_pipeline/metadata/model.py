"""Pydantic model of the registry: fields, tables and code lists. Unknown keys are errors."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

LogicalType = Literal["string", "integer", "float", "boolean", "date", "timestamp", "code", "code_list"]
PiiClass = Literal["direct", "quasi", "token", "none"]
Layer = Literal["raw", "ledger", "staging", "core", "mart", "public", "reference"]
Zone = Literal["restricted", "analyst", "public"]


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class FieldSpec(Strict):
    name: str = ""
    type: LogicalType
    description: str = Field(min_length=10)
    pii: PiiClass
    nullable: bool = True
    codelist: str | None = None
    unit: str | None = None
    min: float | None = None
    max: float | None = None
    # DuckDB's storage of the column: None lets DuckDB choose per segment, which means trying every
    # compression on the values at each checkpoint. `uncompressed` skips that for values that do not
    # compress (ciphertext): the vault's sealed identities cost 4 s of analysis per 115,000 rows
    # against 0.4 s stored as they are, for 5 % more space (bench/HISTORY.md, session 24).
    compression: Literal["uncompressed"] | None = None

    @model_validator(mode="after")
    def _codelist_matches_type(self) -> FieldSpec:
        if self.type in ("code", "code_list") and not self.codelist:
            raise ValueError(f"field {self.name!r} of type {self.type} needs a codelist")
        if self.type not in ("code", "code_list") and self.codelist:
            raise ValueError(f"field {self.name!r}: codelist only for code types")
        return self


class ColumnRef(Strict):
    name: str
    nullable: bool | None = None


class TableSpec(Strict):
    name: str = ""
    layer: Layer
    zone: Zone
    grain: str = Field(pattern=r"^one row per ")
    description: str = Field(min_length=10)
    primary_key: list[str] = Field(default_factory=list)
    # false: the DDL declares no PRIMARY KEY (DuckDB keeps one as an ART index, which about doubles
    # the cost of bulk inserts); the key is checked instead, see the table's comment
    key_index: bool = True
    # published tables only: columns the analyst file (ct.duckdb) keeps an ART index on, for the
    # lookups of one value that analysts make (a person's cases by person_token, a case's
    # assistance by case_token): without it such a query reads the whole column (bench/HISTORY.md,
    # session 22). Not in the build database, whose bulk inserts it would slow. Scalar columns only.
    lookup_index: list[str] = Field(default_factory=list)
    columns: list[ColumnRef]


class Code(BaseModel):
    # Extra keys (min_age, max_age, …) are attributes of the code, kept as given.
    model_config = ConfigDict(extra="allow", frozen=True)
    code: str
    label: str
    variants: list[str] = Field(default_factory=list)


class CodeList(Strict):
    name: str
    description: str
    codes: list[Code]

    @model_validator(mode="after")
    def _unique(self) -> CodeList:
        seen = [c.code for c in self.codes]
        dupes = {c for c in seen if seen.count(c) > 1}
        if dupes:
            raise ValueError(f"code list {self.name}: duplicate codes {sorted(dupes)}")
        return self

    @property
    def codes_set(self) -> frozenset[str]:
        return frozenset(c.code for c in self.codes)
