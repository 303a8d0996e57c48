"""Exception messages lose every value, keep class names, fields, export paths and row numbers."""

from __future__ import annotations

from pathlib import Path

import pytest

from ct_pipeline.notify.sanitize import (
    REDACTED,
    exception_class,
    sanitize_identifier,
    sanitize_message,
    sanitize_path,
)

ROOTS = [Path("/srv/ct/raw_exports"), Path("/srv/ct/warehouse")]

# (message, values that must disappear, fragments that must stay)
CASES = [
    ("conversion from `str` to `date` failed in column 'date_of_birth' for 1 out of 3 values: [\"12/13/1985\"]",
     ["12/13/1985"], ["date_of_birth", "1 out of 3", "conversion"]),
    ("Conversion Error: Could not convert string 'Maria Lopez' to INT64 when casting from source column age_reported",
     ["Maria", "Lopez"], ["Conversion Error", "INT64", "age_reported"]),
    ("'utf-8' codec can't decode byte 0xe9 in position 1234: invalid continuation byte",
     ["0xe9"], ["utf-8", "position 1234", "invalid continuation byte"]),
    ("'Nom de famille'", ["Nom de famille", "famille"], []),
    ("1 validation error for Person\ndate_of_birth\n  Input should be a valid date "
     "[type=date_parsing, input_value='1985-13-02', input_type=str]",
     ["1985-13-02", "Person"], ["date_of_birth", "valid date"]),
    ("[Errno 2] No such file or directory: '/srv/ct/raw_exports/MD-CHI/2026-11-20/cases.csv'",
     [], ["Errno 2", "MD-CHI/2026-11-20/cases.csv"]),
    ("[Errno 13] Permission denied: '/home/maria.lopez/cases.csv'", ["maria", "lopez"], ["Permission denied"]),
    ("row 12: unknown sex value Mariaaa for case AB1234567, phone +41 79 123 45 67, "
     "email maria.lopez@example.org, born 12.03.1990",
     ["Mariaaa", "AB1234567", "+41", "79 123", "maria.lopez@example.org", "12.03.1990", "1990"],
     ["row 12", "sex"]),
    ('IO Error: Could not set lock on file "/srv/ct/warehouse/restricted/build.duckdb": '
     "Conflicting lock is held in /usr/bin/python3.11 (PID 4242)",
     ["4242", "/usr/bin"], ["IO Error", "warehouse/restricted/build.duckdb", "Conflicting lock"]),
    ("Column 'sex' failed element-wise validator number 0: isin(['female', 'male']) failure cases: Jose, Ana",
     ["Jose", "Ana"], ["'sex'", "failure cases"]),
    ('duckdb.duckdb.ConstraintException: Constraint Error: Duplicate key "case_token: 9f86d081884c7d659a2f" '
     "violates primary key constraint.",
     ["9f86d081884c7d659a2f"], ["duckdb.duckdb.ConstraintException", "Duplicate key", "primary key"]),
    ("file MD-CHI/2026-11-20/cases.csv line 7: expected 36 fields, saw 35",
     [], ["MD-CHI/2026-11-20/cases.csv", "line 7", "36 fields"]),
    ("Will Smith and Can Yilmaz were not found; O'Brien neither; value 'O'Brien' invalid",
     ["Will", "Smith", "Can", "Yilmaz", "O'Brien", "Brien"], ["were not found"]),
    ("KeyError: \u201cJos\u00e9 Mar\u00eda\u201d not in \u00abAna P\u00e9rez\u00bb", ["Jos\u00e9", "Mar\u00eda",
                                                                                   "P\u00e9rez"], ["KeyError"]),
    ("invalid literal for int() with base 10: '19850302'", ["19850302"], ["invalid literal for int"]),
]


@pytest.mark.parametrize(("message", "gone", "kept"), CASES)
def test_values_go_names_stay(message, gone, kept):
    out = sanitize_message(message, roots=ROOTS)
    for v in gone:
        assert v not in out, (out, v)
    for k in kept:
        assert k in out, (out, k)


def test_uuid_hex_and_long_numbers_go():
    out = sanitize_message("submission 0b9e8c3a-1f2d-4e5f-9a8b-7c6d5e4f3a2b, token 3f9a1c..., doc 123456789",
                           roots=ROOTS)
    assert "0b9e8c3a" not in out and "3f9a1c" not in out and "123456789" not in out


def test_paths_outside_the_roots_go():
    assert sanitize_path("/home/someone/private.csv", roots=ROOTS) == REDACTED
    assert sanitize_path("/srv/ct/raw_exports/MD-CHI/2026-11-20/a.csv", roots=ROOTS) == \
        "raw_exports/MD-CHI/2026-11-20/a.csv"
    assert sanitize_path("MD-CHI/2026-11-20/a.csv", roots=ROOTS) == "MD-CHI/2026-11-20/a.csv"
    assert sanitize_path("../etc/2026-11-20/x", roots=ROOTS) == REDACTED


def test_long_messages_are_cut():
    assert len(sanitize_message("error " * 1000, roots=ROOTS)) <= 600


def test_identifiers_and_classes():
    assert sanitize_identifier("fct_cases") == "fct_cases"
    assert sanitize_identifier("Maria Lopez") == REDACTED
    assert exception_class(ValueError("x")) == "ValueError"
    assert exception_class(UnicodeDecodeError("utf-8", b"\xe9", 0, 1, "bad")) == "UnicodeDecodeError"

    class ConversionException(Exception):
        pass

    assert exception_class(ConversionException()).endswith("ConversionException")
