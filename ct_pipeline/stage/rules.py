"""The validation rules: identifiers and readable reasons (fields and rules named, never values).

Every quarantine row carries one of these rule ids. Reasons are sentences for the research unit and
the mission; `{field}` is the canonical field name.
"""

from __future__ import annotations

MAX_VALUE_CHARS = 65_536  # longer values are quarantined (rule value_too_long)
GAF_START = "2000-08-01"
AGE_TOLERANCE_YEARS = 2  # reported age vs the age computed from the date of birth

RULES: dict[str, str] = {
    # extraction: the record could not be read
    "json_parse": "the line is not a valid JSON object",
    "json_structure": "'route' or 'assistance' is not a list, so its legs or episodes cannot be read",
    "csv_row_shape": "the row has more or fewer values than the header has columns",
    "csv_quoting": "a quotation mark is out of place, so the row's values cannot be separated reliably",
    "csv_row_incomplete": "the file ends inside this row (it was cut off)",
    # parsing a value
    "value_too_long": f"{{field}} is longer than {MAX_VALUE_CHARS:,} characters",
    "control_character": "{field} contains a NUL byte or another control character",
    "date_format": "{field} is not a date in one of this export's date formats",
    "date_nonexistent": "{field} is Excel day 60, the 29 February 1900 that never existed",
    "date_before_1900": "{field} is before 1900",
    "date_in_future": "{field} is later than the day the data was staged",
    "integer_format": "{field} is not a whole number",
    "boolean_format": "{field} is not a yes/no answer in a known language or flag",
    "code_known": "{field} holds a value that is not in its code list ({codelist}) nor a known variant",
    "single_value": "{field} holds several values where one is expected",
    # registry schema (Pandera)
    "required": "required field {field} is empty",
    "range": "{field} is outside its allowed range",
    # cross-field rules
    "age_range": "{field}: the age is outside 0-100 years",
    "age_consistent": (
        "age_reported differs by more than 2 years from the age computed from date_of_birth "
        "(at identification, else at registration)"
    ),
    "identification_after_birth": "identification_date is before date_of_birth",
    "exploitation_end_after_start": "exploitation_end_date is before exploitation_start_date",
    "assistance_end_after_start": "assistance_end_date is before assistance_start_date",
    "assistance_after_identification": (
        "assistance_start_date is before the identification_date of the case (screening of the same "
        "mission and case number)"
    ),
    "gaf_from_2000_08": (
        "funding_source is the Global Assistance Fund, created in August 2000, but "
        "assistance_start_date is earlier"
    ),
}


def reason(rule: str, field: str | None, codelist: str | None = None) -> str:
    text = RULES.get(rule, "{field} fails the registry check " + rule)
    text = text.format(field=field or "the record", codelist=codelist or "")
    where = f"field {field}, " if field else "whole record, "
    return f"{where}rule {rule}: {text}"
