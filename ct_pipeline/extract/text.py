"""Strict decoding of text exports: a file that does not decode in its era's encoding is refused,
never decoded lossily (a lossy decode silently changes names, and with them the person tokens).

- UTF-8 (case API, CTDC): strict; a UTF-8 byte-order mark is dropped.
- Windows-1252 (legacy module): strict (the five bytes cp1252 leaves undefined are refused). A file
  that is valid UTF-8 *and* holds non-ASCII text is refused as UTF-8: a cp1252 decode would turn
  ``é`` into ``Ã©`` without any error. A UTF-8 byte-order mark in front of pure ASCII text is dropped
  (the text is the same in both encodings).
- UTF-16 (byte-order mark FF FE / FE FF) is refused with its name.
NUL bytes are kept here; staging quarantines the rows that hold them (rule ``control_character``).
"""

from __future__ import annotations

from ct_pipeline.extract.errors import FileRefused

UTF8_BOM = b"\xef\xbb\xbf"
UTF16_BOMS = (b"\xff\xfe", b"\xfe\xff")

ENCODING_NAMES = {"cp1252": "Windows-1252 (ANSI)", "utf-8": "UTF-8"}


def _line_of(data: bytes, offset: int) -> int:
    return data.count(b"\n", 0, offset) + 1


def decode_strict(data: bytes, encoding: str, *, format_label: str) -> tuple[str, bytes]:
    """Decode the whole file; return (text, the same text as UTF-8 bytes). Raise FileRefused."""
    expected = ENCODING_NAMES.get(encoding, encoding)
    if data.startswith(UTF16_BOMS):
        raise FileRefused(
            f"The file is saved as UTF-16 (Unicode) text; a {format_label} file must be {expected} text. "
            f"Save or export it again as {expected}."
        )
    if encoding == "utf-8":
        if data.startswith(UTF8_BOM):
            data = data[len(UTF8_BOM):]
        try:
            text = data.decode("utf-8")
        except UnicodeDecodeError as e:
            raise FileRefused(
                f"The file is not valid UTF-8 text (first invalid byte on line {_line_of(data, e.start)}); "
                f"it may have been saved as Windows-1252/ANSI. A {format_label} file must be UTF-8: "
                "export it again without changing the encoding."
            ) from None
        return text, data
    if encoding == "cp1252":
        had_bom = data.startswith(UTF8_BOM)
        body = data[len(UTF8_BOM):] if had_bom else data
        if body.isascii():
            text = body.decode("ascii")
            return text, body
        try:
            body.decode("utf-8")
            is_utf8 = True
        except UnicodeDecodeError:
            is_utf8 = False
        if is_utf8 or had_bom:
            raise FileRefused(
                f"The file is saved as UTF-8, but a {format_label} file must be {expected} text: "
                "reading it as Windows-1252 would garble accented letters. Export it again from the "
                "module without converting it (or save it as 'ANSI'/'Windows-1252')."
            )
        try:
            text = body.decode("cp1252")
        except UnicodeDecodeError as e:
            raise FileRefused(
                f"The file holds bytes that are not {expected} text (first on line {_line_of(body, e.start)}); "
                "it may be damaged or in another encoding."
            ) from None
        return text, text.encode("utf-8")
    raise ValueError(f"unsupported encoding {encoding!r} in eras.yaml")
