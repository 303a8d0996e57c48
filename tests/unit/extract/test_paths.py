"""files_under: the exports listing every night starts from (one scandir per folder)."""

import os

from ct_pipeline.extract.paths import files_under, relative_name
from ct_pipeline.ingest import _relative_names, scan_files


def test_files_under_lists_like_rglob(tmp_path):
    root = tmp_path / "exports"
    for rel in ["MD-CHI/2024-03-01/a.csv", "MD-CHI/2024-03-01/b-c.csv", "MD-CHI/2024-03-01/b/x.jsonl",
                "MD-CHI-2/2024-03-02/c.xlsx", "AL-TIR/2024-01-01/.hidden.csv", "AL-TIR/.tmp/d.csv", "README.md"]:
        p = root / rel
        p.parent.mkdir(parents=True, exist_ok=True)
        p.write_text(rel)
    outside = tmp_path / "elsewhere"
    (outside / "2024-05-05").mkdir(parents=True)
    (outside / "2024-05-05" / "e.csv").write_text("e")
    os.symlink(outside, root / "LINKED")  # a linked folder: not followed (as rglob)
    os.symlink(root / "MD-CHI/2024-03-01/a.csv", root / "MD-CHI/2024-03-01/z.csv")  # a linked file: listed

    expected = sorted(p for p in root.rglob("*") if p.is_file())
    listed = files_under(root)
    assert [root.joinpath(*parts) for parts, _ in listed] == expected
    assert all(st.st_size == root.joinpath(*parts).stat().st_size for parts, st in listed)
    # the ingest's candidates: no README, nothing hidden or inside a hidden folder
    assert [relative_name(p, root) for p in scan_files(root)] == [
        "MD-CHI/2024-03-01/a.csv", "MD-CHI/2024-03-01/b/x.jsonl", "MD-CHI/2024-03-01/b-c.csv",
        "MD-CHI/2024-03-01/a.csv",  # z.csv, a link: named by what it resolves to
        "MD-CHI-2/2024-03-02/c.xlsx"]
    # the ingest's fast names (no resolve per file) are the same, the linked file's included
    scanned = scan_files(root)
    assert list(_relative_names(scanned, root).values()) == [relative_name(p, root) for p in scanned]
    via_link = tmp_path / "exports-link"  # the exports folder itself reached through a link
    os.symlink(root, via_link)
    scanned = scan_files(via_link)
    assert list(_relative_names(scanned, via_link).values()) == [relative_name(p, via_link) for p in scanned]
    assert files_under(tmp_path / "missing") == []
