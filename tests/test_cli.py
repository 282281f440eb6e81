"""The command line as users and cron see it: real processes where it matters."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest
from typer.testing import CliRunner

from listen.cli import app
from tests.helpers import jsonl, listen_here, write_config

COMMANDS = ["init", "pull", "inbox", "show", "done", "ignore", "snooze", "reopen", "feeds", "stats", "export",
            "classify", "reflag", "demo", "mark", "flags", "alert"]
NOW = int(time.time())


def run_process(*args: str, cwd: Path | None = None, stdin: str | None = None, env: dict | None = None):
    """`listen` as a real process: exit codes and streams exactly as cron sees them."""
    e = {**os.environ, "NO_COLOR": "1", **(env or {})}
    return subprocess.run([sys.executable, "-m", "listen", *args], cwd=cwd, input=stdin, capture_output=True,
                          text=True, env=e, timeout=60)


# Most tests run the commands in this process (the same main(), exit codes and streams): a process
# each cost 0.3 s. Those about the process itself (python -m, start-up) use run_process.
run = listen_here


@pytest.fixture
def setup(tmp_path):
    jsonl(tmp_path / "m.jsonl", [
        {"id": "1", "author": "ann", "text": "How do I export my data?", "created_at": NOW - 7200},
        {"id": "2", "author": "bob", "text": "Thanks, lovely post", "created_at": NOW - 3600},
        {"id": "3", "author": "cat", "text": "Your app is broken and nobody answers. Terrible.", "created_at": NOW - 600},
        {"id": "4", "author": "dan", "text": "Where do I find the invoice?", "created_at": NOW - 500},
        {"id": "5", "author": "acme", "text": "Settings > Invoices", "created_at": NOW - 400, "in_reply_to": "4"},
        {"id": "6", "author": "\u001b]0;pwned\u0007eve\u001b[2J", "created_at": NOW - 300,
         "text": "[bold red]ADMIN[/] [link=file:///etc/passwd]click[/link] \u202eevil\u202c can you help?"},
    ])
    cfg = write_config(tmp_path / "listen.toml", [{"name": "ex", "type": "jsonl", "path": "m.jsonl"}])
    return tmp_path, cfg


def test_every_command_has_help():
    runner = CliRunner()
    for cmd in COMMANDS:
        r = runner.invoke(app, [cmd, "--help"])
        assert r.exit_code == 0, cmd
        assert "Usage" in r.output and len(r.output) > 100, cmd
    top = runner.invoke(app, ["--help"]).output
    for cmd in COMMANDS:
        assert cmd in top


def test_python_m_listen_and_version():
    r = run_process("--version")
    assert r.returncode == 0 and r.stdout.startswith("listen ")


def test_pull_inbox_json_and_triage_loop(setup):
    tmp, cfg = setup
    r = run("--config", str(cfg), "pull")
    assert r.returncode == 0, r.stderr
    assert "ex: 6 new" in r.stdout
    r = run("--config", str(cfg), "pull", "--quiet")
    assert r.returncode == 0 and r.stdout == "" and r.stderr == ""

    r = run("--config", str(cfg), "inbox", "--json")
    assert r.returncode == 0, r.stderr
    rows = json.loads(r.stdout)
    assert {row["author"] for row in rows} == {"ann", "cat", "\x1b]0;pwned\x07eve\x1b[2J"}
    for row in rows:
        assert set(row) >= {"id", "feed", "network", "url", "author", "text", "created_at", "waiting_seconds",
                            "flags", "reasons", "thread_id"}
        assert isinstance(row["id"], str) and isinstance(row["waiting_seconds"], int)
        assert row["feed"] == "ex" and row["network"] == "jsonl" and row["flags"] and row["reasons"]
    # the negative remark, though newest, is weighted; the two-hour question is older still
    ann = next(r for r in rows if r["author"] == "ann")
    assert "question" in ann["flags"] and ann["created_at"].endswith("+00:00")

    ids = {row["author"]: row["id"] for row in rows}
    r = run("--config", str(cfg), "done", ids["ann"])
    assert r.returncode == 0 and "done" in r.stdout
    r = run("--config", str(cfg), "snooze", ids["cat"], "--for", "2d")
    assert r.returncode == 0 and "snoozed" in r.stdout
    eve = ids["\x1b]0;pwned\x07eve\x1b[2J"]
    for no_time in ("0s", "0m", "0.4s"):  # QA: "→ snoozed" while hiding nothing
        r = run("--config", str(cfg), "snooze", eve, "--for", no_time)
        assert r.returncode == 2 and "--for" in r.stderr and "snoozed" not in r.stdout, (no_time, r.stderr)
    left = json.loads(run("--config", str(cfg), "inbox", "--json").stdout)
    assert [x["author"] for x in left] == ["\x1b]0;pwned\x07eve\x1b[2J"]
    r = run("--config", str(cfg), "reopen", ids["ann"], ids["cat"])
    assert len(json.loads(run("--config", str(cfg), "inbox", "--json").stdout)) == 3
    all_rows = json.loads(run("--config", str(cfg), "inbox", "--json", "--all").stdout)
    assert "bob" in {x["author"] for x in all_rows}
    assert len(json.loads(run("--config", str(cfg), "inbox", "--json", "--limit", "1").stdout)) == 1


def test_hostile_text_is_inert_in_the_terminal_report(setup):
    tmp, cfg = setup
    run("--config", str(cfg), "pull")
    r = run("--config", str(cfg), "inbox")
    assert r.returncode == 0, r.stderr
    out = r.stdout
    assert "\x1b" not in out and "\x07" not in out and "\u202e" not in out
    assert "^[]0;pwned^Geve^[[2J" in out  # shown, visibly neutralised
    assert "[bold red]ADMIN[/]" in out  # markup printed as text, not interpreted
    assert "[link=file:///etc/passwd]" in out
    assert "<U+202E>evil" in out
    assert "waiting" in out and "people waiting" in out


def test_show_marks_ours_and_unknown_id_fails_cleanly(setup):
    tmp, cfg = setup
    run("--config", str(cfg), "pull")
    rows = json.loads(run("--config", str(cfg), "inbox", "--json", "--all").stdout)
    exported = [json.loads(x) for x in run("--config", str(cfg), "export", "--format", "jsonl").stdout.splitlines()]
    dan = next(x for x in exported if x["author"] == "dan")
    r = run("--config", str(cfg), "show", dan["id"])
    assert r.returncode == 0
    assert "acme (us)" in r.stdout and "Where do I find the invoice?" in r.stdout and "answered" in r.stdout
    r = run("--config", str(cfg), "show", "9999")
    assert r.returncode == 1 and "no item '9999'" in r.stderr and "Traceback" not in r.stderr
    assert rows


def test_export_formats(setup):
    tmp, cfg = setup
    run("--config", str(cfg), "pull")
    lines = run("--config", str(cfg), "export", "--format", "jsonl").stdout.splitlines()
    recs = [json.loads(x) for x in lines]
    assert len(recs) == 6
    for rec in recs:
        assert {"native_id", "in_reply_to", "ours", "state", "flags", "reasons"} <= set(rec)
    assert next(r for r in recs if r["native_id"] == "5")["ours"] is True
    def steady(rows):  # waiting_seconds moves with the clock between two runs
        return [{k: v for k, v in r.items() if k != "waiting_seconds"} for r in rows]

    assert steady(json.loads(run("--config", str(cfg), "export", "--format", "json").stdout)) == steady(recs)
    csv_out = run("--config", str(cfg), "export", "--format", "csv").stdout
    assert csv_out.splitlines()[0].startswith("id,feed,network,native_id")
    assert len(csv_out.strip().splitlines()) >= 7
    r = run("--config", str(cfg), "export", "--format", "xml")
    assert r.returncode == 2


def test_exit_codes_for_feed_failure_and_config_error(tmp_path):
    jsonl(tmp_path / "ok.jsonl", [{"id": "1", "author": "a", "text": "hi?", "created_at": NOW}])
    cfg = write_config(tmp_path / "listen.toml", [{"name": "ok", "type": "jsonl", "path": "ok.jsonl"},
                                                  {"name": "gone", "type": "jsonl", "path": "missing.jsonl"}])
    r = run("--config", str(cfg), "pull", "--quiet")
    assert r.returncode == 1
    assert r.stdout == "" and "gone" in r.stderr and "cannot read" in r.stderr and "ok:" not in r.stderr
    rows = run("--config", str(cfg), "export").stdout.splitlines()
    assert len(rows) == 1  # the good feed was stored

    bad = tmp_path / "bad.toml"
    bad.write_text('[[feeds]]\nname = "x"\ntype = "rss"\nurll = "http://x"\n')
    r = run("--config", str(bad), "pull")
    assert r.returncode == 2 and str(bad) in r.stderr and "did you mean 'url'" in r.stderr
    r = run("--config", str(tmp_path / "nope.toml"), "inbox")
    assert r.returncode == 2 and "not found" in r.stderr


def test_second_pull_gives_way_with_exit_3(setup):
    tmp, cfg = setup
    import fcntl

    with open(str(tmp / "listen.db") + ".lock", "a+") as fh:
        fcntl.flock(fh, fcntl.LOCK_EX)
        r = run("--config", str(cfg), "pull", "--wait", "0.3")
    assert r.returncode == 3 and "still running" in r.stderr


def test_init_writes_once(tmp_path):
    target = tmp_path / "conf" / "listen.toml"
    r = run("init", str(target))
    assert r.returncode == 0 and target.exists()
    r = run("init", str(target))
    assert r.returncode == 1 and "--force" in r.stderr
    assert run("init", str(target), "--force").returncode == 0
    r = run("--config", str(target), "feeds")
    assert r.returncode == 0 and "blog-comments" in r.stdout


def test_db_override_and_env(setup):
    tmp, cfg = setup
    other = tmp / "other.db"
    run("--config", str(cfg), "--db", str(other), "pull")
    assert other.exists() and not (tmp / "listen.db").exists()
    r = run("--config", str(cfg), "inbox", "--json", env={"LISTEN_DB": str(other)})
    assert len(json.loads(r.stdout)) == 3


def test_classify_jsonl_from_stdin_keeps_order():
    r = run("classify", "--jsonl", stdin="How do I reset my password?\nLovely day\nThis is broken, awful\n")
    assert r.returncode == 0, r.stderr
    recs = [json.loads(x) for x in r.stdout.splitlines()]
    assert [x["text"] for x in recs] == ["How do I reset my password?", "Lovely day", "This is broken, awful"]
    assert list(recs[0]) == ["text", "question", "negative", "question_score", "negative_score", "reasons"]
    assert recs[0]["question"] and not recs[1]["question"] and recs[2]["negative"]


def test_classify_jsonl_over_a_long_file_answers_each_line_in_order(tmp_path):
    """Long input is flagged by worker processes; each answer must still be
    the one `classify` gives that text, on its own line, in input order."""
    from listen.flags import classify

    base = ["How do I reset my password?", "Lovely day", "This is broken, awful", "", "still waiting on my refund",
            "is anyone there??", "great release, thanks!", "  spaced  out  "]
    texts = [f"{t} #{i}" if t else t for i, t in enumerate(base * 120)]  # 960 lines, several chunks
    src = tmp_path / "texts.txt"
    src.write_text("\n".join(texts) + "\n", "utf-8")
    with open(src, "rb") as fin:
        r = subprocess.run([sys.executable, "-m", "listen", "classify", "--jsonl"], stdin=fin, capture_output=True,
                           env={**os.environ, "NO_COLOR": "1"}, timeout=120)
    assert r.returncode == 0, r.stderr
    recs = [json.loads(x) for x in r.stdout.decode("utf-8").splitlines()]
    assert [x["text"] for x in recs] == texts
    for rec in recs[::37]:
        v = classify(rec["text"])
        assert (rec["question"], rec["negative"], rec["negative_score"], rec["reasons"]) == \
            (v.question, v.negative, round(v.negative_score, 4), v.reasons)


def test_demo_runs_offline_and_shows_who_is_waiting():
    r = run("demo")
    assert r.returncode == 0, r.stderr
    out = r.stdout
    assert "people waiting" in out
    assert "Dev Patel" in out  # a complaint nobody answered
    assert "Priya N." in out  # a question nobody answered
    assert "Marco Bianchi" not in out.split("$ listen show")[0]  # answered via his later message
    assert "Rosa" not in out  # answered directly
    assert "[bold red]ADMIN NOTICE[/]" in out  # strangers' markup shown as text
    # The commands it suggests stand whole on lines of their own, to be copied.
    lines = [x.strip() for x in out.splitlines()]
    assert {"listen demo --keep ./listen-demo", "listen init", "listen pull"} <= set(lines)


def test_stats_json_and_report(setup):
    tmp, cfg = setup
    run("--config", str(cfg), "pull")
    r = run("--config", str(cfg), "stats", "--json")
    assert r.returncode == 0, r.stderr
    s = json.loads(r.stdout)
    assert set(s) >= {"since", "until", "overall", "feeds", "weeks"}
    o = s["overall"]
    assert o["mentions"] == 5 and o["answered"] == 1 and o["our_posts"] == {"broadcasts": 0, "replies": 1}
    assert o["first_response_seconds"] == {"median": 100, "p90": 100}
    assert set(s["feeds"]) == {"ex"}
    r = run("--config", str(cfg), "stats", "--since", "7d")
    assert r.returncode == 0 and "ex" in r.stdout
    r = run("--config", str(cfg), "stats", "--feed", "nope")
    assert r.returncode == 2 and "no feed named 'nope'" in r.stderr


HEAVY = ("httpx", "feedparser", "sqlite_utils", "numpy", "pydantic")


def loaded_by(args: list[str]) -> list[str]:
    """Heavy modules a real `listen ARGS` run has loaded when it exits."""
    code = ("import atexit, sys, runpy\n"
            f"atexit.register(lambda: print('LOADED', sorted(m for m in {HEAVY!r} if m in sys.modules)))\n"
            f"sys.argv = ['listen', *{args!r}]\n"
            "runpy.run_module('listen', run_name='__main__')\n")
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60,
                       env={**os.environ, "NO_COLOR": "1"})
    line = next(x for x in r.stdout.splitlines() if x.startswith("LOADED"))
    return eval(line.removeprefix("LOADED "))  # a list literal we printed ourselves


def test_help_and_reading_commands_import_nothing_heavy(tmp_path):
    """Start-up is a feature: reading the inbox must not pay for HTTP or feed parsing."""
    cfg = write_config(tmp_path / "listen.toml", [
        {"name": "blog", "type": "rss", "url": "https://blog.example.com/comments/feed/"},
        {"name": "fedi", "type": "mastodon", "instance": "https://mastodon.example", "token_env": "T"}])
    assert loaded_by(["--help"]) == []
    assert loaded_by(["--config", str(cfg), "inbox"]) == []
    assert loaded_by(["--config", str(cfg), "inbox", "--json"]) == []


def test_reflag_after_a_rules_change(setup):
    tmp, cfg = setup
    run("--config", str(cfg), "pull")
    before = {r["author"]: r for r in json.loads(run("--config", str(cfg), "inbox", "--json").stdout)}
    assert "negative" in before["cat"]["flags"]
    assert run("--config", str(cfg), "reflag").stdout.strip() == "re-flagged 0 items"  # nothing changed
    # The user decides "terrible" and "broken" are fine words here, and raises the bar.
    cfg.write_text(cfg.read_text().replace(
        "[identity]", '[flags]\nnever_negative = ["broken", "terrible", "nobody answers"]\n'
                      'negative_threshold = 0.95\n[identity]'))
    r = run("--config", str(cfg), "reflag")
    assert r.returncode == 0 and r.stdout.strip() == "re-flagged 5 items"  # every stored mention
    after = {r["author"]: r for r in json.loads(run("--config", str(cfg), "inbox", "--json", "--all").stdout)}
    assert "negative" not in after["cat"]["flags"]


def test_pull_reflags_what_the_inbox_can_show(setup):
    tmp, cfg = setup
    old = {"id": "7", "author": "fay", "text": "Terrible service, broken again", "created_at": NOW - 30 * 86400}
    with open(tmp / "m.jsonl", "a", encoding="utf-8") as fh:
        fh.write(json.dumps(old) + "\n")
    run("--config", str(cfg), "pull")
    # Like an incremental API past its cursor, the next fetch returns nothing
    # already stored: a re-fetch cannot be what re-flags them.
    (tmp / "m.jsonl").write_text("", encoding="utf-8")
    cfg.write_text(cfg.read_text().replace(
        "[identity]", '[flags]\nnever_negative = ["broken", "terrible", "nobody answers"]\n[identity]'))
    # No `listen reflag`: the next cron pull brings the inbox up to date by itself...
    assert run("--config", str(cfg), "pull", "--quiet").returncode == 0
    after = {r["author"]: r for r in json.loads(run("--config", str(cfg), "inbox", "--json", "--all").stdout)}
    assert "negative" not in after["cat"]["flags"]
    # ...but only within the inbox's window: the month-old mention is left for `reflag`.
    assert run("--config", str(cfg), "reflag").stdout.strip() == "re-flagged 1 item"
