"""The command line: parse options, call the Listener, render, map errors to exit codes.

Exit codes: 0 ok; 1 a feed failed or a runtime error (named on stderr);
2 usage or config error; 3 another pull holds the lock (pull only).
Heavy modules are imported inside commands so `listen --help` stays instant.
"""

from __future__ import annotations

import json
import os
import sys
from contextlib import nullcontext
from pathlib import Path
from typing import TYPE_CHECKING, Any, Callable, Optional

import typer

from listen import __version__
from listen.errors import Busy, ConfigError, ListenError, UsageError

if TYPE_CHECKING:
    from rich.console import Console

    from listen.alerts.runner import AlertResult
    from listen.app import Listener
    from listen.models import PullResult

EXIT_FEED_FAILED = 1
EXIT_ERROR = 1
EXIT_USAGE = 2
EXIT_BUSY = 3
INBOX_PAGE = 50
NOW_ENV = "LISTEN_NOW"
PROGRESS_LINES = 20  # up to this many feeds, a pull on a terminal prints a line for each

app = typer.Typer(
    name="listen",
    help="Who is waiting for a reply? Pull mentions from your feeds and read the inbox.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,  # tracebacks with locals could print tokens
    rich_markup_mode=None,
    context_settings={"help_option_names": ["-h", "--help"]},
)


class _State:
    config: Optional[str] = None
    db: Optional[str] = None
    verbose: bool = False
    debug: bool = False


state = _State()


def _version(value: bool) -> None:
    if value:
        print(f"listen {__version__}")
        raise typer.Exit()


@app.callback()
def _root(
    config: Optional[Path] = typer.Option(None, "--config", "-c", help="Config file (default: $LISTEN_CONFIG, ./listen.toml, then the user config folder).", metavar="PATH"),
    db: Optional[str] = typer.Option(None, "--db", help="Database file or postgresql:// URL (overrides [store] and $LISTEN_DB).", metavar="PATH|URL"),
    version: bool = typer.Option(False, "--version", callback=_version, is_eager=True, help="Show the version."),
    verbose: bool = typer.Option(False, "--verbose", "-v", help="Log each request, its timing and what was decided (to stderr, secrets redacted)."),
    debug: bool = typer.Option(False, "--debug", help="Like -v, and print the traceback of any unexpected error (secrets redacted)."),
) -> None:
    state.config = str(config) if config else None
    state.db = str(db) if db else None
    state.verbose, state.debug = verbose or debug, debug
    from listen import log

    log.configure(verbose=state.verbose, debug=debug)


def _listener(missing: str = "refuse", feeds: list[str] | None = None) -> Listener:
    """The Listener for this run. Only the commands that write new items (pull, import) pass
    missing="create": the others refuse a database file that is not there (Listener.open)."""
    from listen.app import Listener

    listener = Listener.open(state.config, state.db, clock=_clock(), missing=missing, feeds=feeds)
    for w in listener.config.warnings:  # about secrets: shown even under --quiet, cron mails them
        _say(f"warning: {w}")
    return listener


def _clock() -> Callable[[], float]:
    """The wall clock, or the instant in $LISTEN_NOW (Unix seconds or ISO 8601): every command
    then answers as of that moment (tests, and reproducing what a report showed on a given day)."""
    import time

    fixed = os.environ.get(NOW_ENV, "").strip()
    if not fixed:
        return time.time
    from datetime import datetime

    try:
        value = float(fixed) if fixed.replace(".", "", 1).isdigit() else datetime.fromisoformat(fixed).timestamp()
    except ValueError:
        raise ListenError(f"${NOW_ENV}: {fixed!r} is neither Unix seconds nor an ISO 8601 date") from None
    return lambda: value


def _say(message: str) -> None:
    """One line (or block) on stderr. Messages can quote servers and feeds: made inert first."""
    from listen.text import inert

    print(f"listen: {inert(message)}", file=sys.stderr)


def _out(stderr: bool = False) -> Console:
    from rich.console import Console

    return Console(stderr=stderr, highlight=False, soft_wrap=False)


def _print_json(data: Any) -> None:
    sys.stdout.write(json.dumps(data, ensure_ascii=False, indent=2) + "\n")


def _print_json_array(records: Any) -> None:
    """A JSON array, one record per line: as readable in a pager, and written by
    json's C encoder (indent= falls back to the pure-Python one, 5x slower)."""
    out = sys.stdout
    out.write("[")
    for n, r in enumerate(records):
        out.write(("," if n else "") + "\n" + json.dumps(r, ensure_ascii=False))
    out.write("\n]\n")


# -- commands ----------------------------------------------------------


@app.command()
def init(
    path: Optional[Path] = typer.Argument(None, help="Where to write it (default: --config, or the user config folder)."),
    force: bool = typer.Option(False, "--force", help="Overwrite an existing file."),
) -> None:
    """Write a commented starter config."""
    from importlib.resources import files

    from listen.config import user_config_path

    target = path or (Path(state.config) if state.config else user_config_path())
    if target.exists() and not force:
        raise ListenError(f"{target} already exists; use --force to overwrite it")
    target.parent.mkdir(parents=True, exist_ok=True)
    # Private from the first byte: feed URLs pasted in later may carry a token (?token=...).
    fd = os.open(target, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as out:
        out.write(files("listen").joinpath("starter.toml").read_text(encoding="utf-8"))
    os.chmod(target, 0o600)  # --force over a file others could read
    print(f"Wrote {target}\nNext: add your feeds and names to it, then run `listen pull` and `listen inbox`.")


@app.command()
def pull(
    feed: list[str] = typer.Option([], "--feed", "-f", help="Only this feed (repeatable).", metavar="NAME"),
    quiet: bool = typer.Option(False, "--quiet", "-q", help="Print only errors (for cron)."),
    wait: float = typer.Option(60.0, "--wait", help="Seconds to wait for another running pull before giving way (exit 3).", metavar="SECONDS"),
) -> None:
    """Fetch every feed (or those named) and store new and changed items.

    Exit status: 0 all feeds fetched; 1 at least one failed (named on stderr, the
    others stored); 2 config error; 3 another pull was still running.
    """
    from listen.lock import PullLock
    from listen.render import pull_line
    from listen.text import inert

    listener = _listener(missing="create", feeds=feed)
    err = _out(stderr=True)
    # A bar on a terminal; plain lines under cron or a pipe, and under -v, whose log lines would tear the bar.
    show_progress = not quiet and not state.verbose and sys.stderr.isatty()
    try:
        # SQLite: a lock file beside the database. PostgreSQL coordinates pullers itself (claim_feeds).
        with PullLock(listener.config.db_path, wait) if listener.config.db_url is None else nullcontext():
            if show_progress:
                results = _pull_with_progress(listener, feed or None, err)
            else:
                def line(r: PullResult) -> None:
                    if r.error:
                        print(f"listen: {pull_line(r)}", file=sys.stderr)
                    elif not quiet:
                        print(pull_line(r))
                    if not quiet:
                        for w in r.warnings:
                            _say(f"{r.feed}: {inert(w, limit=300, one_line=True)}")
                results = listener.pull(feed or None, on_result=line, on_alert=_alert_reporter(quiet))
    finally:
        listener.close()
    failed = [r for r in results if r.error]
    if show_progress:
        for r in results:
            for w in r.warnings:
                err.print("[yellow]warning[/]: ", end="")
                err.out(f"{r.feed}: {inert(w, limit=300, one_line=True)}", highlight=False)
        for r in failed:
            print(f"listen: {pull_line(r)}", file=sys.stderr)
        new = sum(r.new for r in results)
        err.print(f"{len(results)} feed{'s' if len(results) != 1 else ''} · {new} new · "
                  f"{len(failed)} failed" + (" · next: listen inbox" if new else ""), style="bold")
    code = EXIT_FEED_FAILED if failed else 0
    from listen.pull import threads_left_behind

    if threads_left_behind():
        # A source blocked where no timeout reaches: it was abandoned, and a
        # normal exit would wait for it. Cron must get its exit status now.
        sys.stdout.flush()
        sys.stderr.flush()
        os._exit(code)
    if code:
        raise typer.Exit(code)


def _pull_with_progress(listener: Listener, feeds: list[str] | None, console: Console) -> list[PullResult]:
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    from listen.render import pull_line

    total = len(feeds) if feeds else len([f for f in listener.config.feeds if f.enabled])
    new = 0
    with Progress(TextColumn("pulling"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(),
                  TextColumn("{task.description}"), console=console, transient=True) as progress:
        task = progress.add_task("", total=total)

        def step(r: PullResult) -> None:
            nonlocal new
            new += r.new
            progress.update(task, advance=1, description=f"{new} new")
            # A line per feed only for a small pull: 2,000 feeds are a bar and a summary, not 2,000 lines.
            if not r.error and total <= PROGRESS_LINES:
                progress.console.out(pull_line(r), highlight=False)

        results = listener.pull(feeds, on_result=step, on_alert=_alert_reporter(False))
    return results


def _alert_reporter(quiet: bool) -> Callable[[AlertResult], None]:
    """How pull reports each alert target: failures on stderr always, the rest unless --quiet."""
    from listen.render import alert_line

    def report(r: AlertResult) -> None:
        if r.error:
            print(f"listen: {alert_line(r)}", file=sys.stderr)
        elif not quiet and r.message is not None:
            print(alert_line(r))

    return report


@app.command()
def alert(
    dry_run: bool = typer.Option(False, "--dry-run", help="Print what would be sent; send and record nothing."),
) -> None:
    """Send the alerts due now ([[alerts]] in the config); `listen pull` does this too after each pull.

    Exit status: 0 every target reached (or nothing due); 1 at least one target
    failed (named on stderr; it is retried on the next run); 2 config error.
    """
    from listen.app import database_missing, no_database
    from listen.render import alert_line
    from listen.render import dry_run as dry

    listener = _listener(missing="empty")  # no [[alerts]] is said first; then a missing database is refused
    try:
        if not listener.config.alerts:
            _say("no [[alerts]] in the config: nothing to send (see docs/alerts.md)")
            return
        if database_missing(listener.config):
            raise UsageError(no_database(listener.config, state.db))
        results = listener.alert(dry_run=dry_run)
    finally:
        listener.close()
    failed = False
    for r in results:
        if dry_run:
            print(dry(r))
        elif r.error:
            failed = True
            print(f"listen: {alert_line(r)}", file=sys.stderr)
        else:
            print(alert_line(r))
    if failed:
        raise typer.Exit(EXIT_ERROR)


@app.command()
def inbox(
    as_json: bool = typer.Option(False, "--json", help="Print a JSON array, most urgent first."),
    show_all: bool = typer.Option(False, "--all", "-a", help="Also list unanswered mentions that carry no flag."),
    feed: list[str] = typer.Option([], "--feed", "-f", help="Only this feed (repeatable).", metavar="NAME"),
    since: Optional[str] = typer.Option(None, "--since", help="Only mentions newer than this (e.g. 2d).", metavar="DURATION"),
    limit: Optional[int] = typer.Option(None, "--limit", "-n", help=f"Show at most this many (default: {INBOX_PAGE} on the terminal, all with --json; the headline counts all).", min=1),
    mine: bool = typer.Option(False, "--mine", help="Only items assigned to me ([identity] me or $LISTEN_USER)."),
    unassigned: bool = typer.Option(False, "--unassigned", help="Only items assigned to nobody."),
) -> None:
    """Who is waiting for a reply, most urgent first.

    Urgency is time waited, doubled for a negative remark (public complaints
    grow by the hour) and raised by half for a question put to us directly.
    """
    since_s = _duration(since, "--since") if since else None
    if mine and unassigned:
        raise typer.BadParameter("--mine and --unassigned exclude each other", param_hint="--unassigned")
    listener = _listener()
    try:
        if limit is None and not as_json:
            limit = INBOX_PAGE  # a morning's reading; the headline still counts everyone
        view = listener.inbox(include_unflagged=show_all, feeds=feed or None, since=since_s, limit=limit,
                              mine=mine, unassigned=unassigned)
    finally:
        listener.close()
    if as_json:
        from listen.export import waiting_record
        from listen.text import inert

        _print_json_array(waiting_record(i, view.now) for i in view.items)
        for gap in view.stale:
            _say(f"warning: {inert(gap.words(view.now), limit=220, one_line=True)}")
        return
    from listen import render

    _out().print(render.inbox(view.items, view.summary, view.now, view.stale, view.max_age, over=view.over,
                              filters=view.filters, everyone=view.everyone))


def _duration(text: str, option: str) -> int:
    from listen.durations import parse_duration

    try:
        return parse_duration(text)
    except ValueError as e:
        raise typer.BadParameter(str(e), param_hint=option) from None


@app.command()
def show(item_id: str = typer.Argument(..., metavar="ID", help="An id from `listen inbox`.")) -> None:
    """The conversation around one item, ours marked."""
    from listen import render

    listener = _listener()
    try:
        item, thread = listener.show(item_id)
        history = listener.history(item_id)
    finally:
        listener.close()
    _out().print(render.conversation(item, thread, listener.now()))
    if history or item.assignee:
        _out().print(render.history(item, history))


def _triage(ids: list[str], action: str, for_seconds: int | None = None) -> None:
    from listen import render

    listener = _listener()
    try:
        items = listener.triage(ids, action, for_seconds)
    finally:
        listener.close()
    label = {"done": "done", "ignore": "ignored", "reopen": "reopened", "snooze": "snoozed"}[action]
    _out().print(render.triaged(items, label), end="")


@app.command()
def done(ids: list[str] = typer.Argument(..., metavar="ID...", help="Ids from `listen inbox`.")) -> None:
    """Mark items handled: they leave the inbox."""
    _triage(ids, "done")


@app.command()
def ignore(ids: list[str] = typer.Argument(..., metavar="ID...", help="Ids from `listen inbox`.")) -> None:
    """Mark items as needing no reply (spam, noise)."""
    _triage(ids, "ignore")


@app.command()
def reopen(ids: list[str] = typer.Argument(..., metavar="ID...", help="Ids from `listen inbox`.")) -> None:
    """Put done, ignored or snoozed items back in the inbox."""
    _triage(ids, "reopen")


@app.command()
def snooze(
    ids: list[str] = typer.Argument(..., metavar="ID...", help="Ids from `listen inbox`."),
    for_: str = typer.Option(..., "--for", help="How long, e.g. 2h, 2d, 1w.", metavar="DURATION"),
) -> None:
    """Hide items for a while; they come back when the time is up, or sooner if the person writes again."""
    seconds = _duration(for_, "--for")
    if seconds <= 0:  # "snoozed" for no time at all would hide nothing while saying it did
        raise typer.BadParameter(f"{for_!r} is no time at all; give how long, e.g. 2h or 2d", param_hint="--for")
    _triage(ids, "snooze", seconds)


@app.command()
def migrate(
    to: str = typer.Option(..., "--to", help="A SQLite path or a postgresql:// URL (password from $PGPASSWORD).", metavar="PATH|URL"),
    password_env: Optional[str] = typer.Option(None, "--password-env", help="The environment variable holding the target's password.", metavar="NAME"),
) -> None:
    """Copy this database, everything in it, into another; a second run copies nothing twice."""
    from listen.storage.postgres import redact

    listener = _listener()
    try:
        counts = listener.migrate(to, password_env)
    finally:
        listener.close()
    # Items and feeds the target held too count apart: those whose newer side was the source's.
    print(f"copied into {redact(to)}: " + ", ".join(
        f"{n} new {table}" + (f" ({counts[table + '_updated']} updated)" if table + "_updated" in counts else "")
        for table, n in counts.items() if not table.endswith("_updated")))


@app.command()
def assign(
    ids: list[str] = typer.Argument(..., metavar="ID...", help="Ids from `listen inbox`."),
    to: Optional[str] = typer.Option(None, "--to", help="Who on the team answers them.", metavar="NAME"),
    unassign: bool = typer.Option(False, "--unassign", help="Assign them to nobody."),
) -> None:
    """Say who on the team answers these items (recorded in their history)."""
    from listen import render

    if (to is None) == (not unassign):
        raise typer.BadParameter("give --to NAME or --unassign", param_hint="--to")
    listener = _listener()
    try:
        items = listener.assign(ids, None if unassign else to)
    finally:
        listener.close()
    from listen.text import inert

    # The name as stored (checked, spelt as the team configured it); inert all the same.
    name = inert(items[0].assignee if items and items[0].assignee else to, limit=60, one_line=True)
    _out().print(render.triaged(items, f"assigned to {name}" if to else "unassigned"), end="")


@app.command()
def feeds(check: bool = typer.Option(False, "--check", help="Try each feed's endpoint and credentials now."),
          as_json: bool = typer.Option(False, "--json", help="Print a JSON array: each feed's health, for scripts.")) -> None:
    """The configured feeds and how their last pull went."""
    from listen import render
    from listen.app import database_missing, no_database
    from listen.text import inert

    # Listing or checking the feeds before the first pull is normal (right after `listen init`):
    # the feeds are shown, no database is created, and a note says where it was looked for.
    listener = _listener(missing="empty")
    if database_missing(listener.config):
        _say(f"note: {no_database(listener.config, state.db)}")
    try:
        if check:
            bad = 0
            # The database too: silent page damage is reported here, not read as an empty inbox.
            problems = listener.store.quick_check()
            for p in problems[:20]:
                print(f"✗ database: {inert(p, limit=300, one_line=True)}")
            bad += bool(problems)
            for name, ok, error in listener.check():
                if error:
                    bad += 1
                    print(f"✗ {name}: {inert(error, limit=300, one_line=True)}")
                else:
                    print(f"✓ {name}: {inert(ok, limit=300, one_line=True)}")
            if bad:
                raise typer.Exit(EXIT_FEED_FAILED)
            return
        rows = listener.feeds()
    finally:
        listener.close()
    if as_json:
        from listen.gaps import feed_record

        _print_json_array(feed_record(f.name, f.type, st) for f, st in rows)
        return
    _out().print(render.feeds_table(rows, listener.now()))


@app.command()
def stats(
    since: str = typer.Option("30d", "--since", help="The period: mentions created this long ago or later.", metavar="DURATION"),
    feed: list[str] = typer.Option([], "--feed", "-f", help="Only this feed (repeatable).", metavar="NAME"),
    as_json: bool = typer.Option(False, "--json", help="Print one JSON object."),
) -> None:
    """How fast we answer and how much we talk versus listen, per feed and week by week."""
    since_s = _duration(since, "--since")
    listener = _listener()
    try:
        figures = listener.stats(since_s, feed or None)
        gaps = [g for g in listener.stale_feeds() if not feed or g.feed in feed]
    finally:
        listener.close()
    if as_json:
        from listen.gaps import gap_record

        # Figures over a blind period are short: say which feeds were blind, and since when.
        _print_json({**figures, "gaps": [gap_record(g, listener.now()) for g in gaps]})
        return
    from listen.render import stale_warnings
    from listen.stats_view import render

    for line in stale_warnings(gaps, listener.now()):
        _out().print(line)
    _out().print(render(figures))


@app.command()
def export(
    fmt: str = typer.Option("jsonl", "--format", help="csv, json or jsonl."),
    since: Optional[str] = typer.Option(None, "--since", help="Only items newer than this (e.g. 30d).", metavar="DURATION"),
) -> None:
    """Everything stored, one record per item, streamed to standard output."""
    from listen.export import COLUMNS, csv_row

    if fmt not in ("csv", "json", "jsonl"):
        raise typer.BadParameter("choose csv, json or jsonl", param_hint="--format")
    since_s = _duration(since, "--since") if since else None
    listener = _listener()
    out = sys.stdout
    try:
        rows = listener.export(since_s)
        if fmt == "jsonl":
            for r in rows:
                out.write(json.dumps(r, ensure_ascii=False) + "\n")
        elif fmt == "json":
            _print_json_array(rows)
        else:
            import csv

            w = csv.writer(out)
            w.writerow(COLUMNS)
            for r in rows:
                w.writerow(csv_row(r))  # no terminal controls, no strangers' formulas
    finally:
        listener.close()


@app.command("import")
def import_(
    file: str = typer.Argument(..., metavar="FILE", help="A `listen export --format jsonl` file; - reads standard input."),
    feed: Optional[str] = typer.Option(None, "--feed", "-f", help="Store every record under this feed name.", metavar="NAME"),
) -> None:
    """Restore items from a jsonl export: content, flags, triage state and answers, as they were.

    A bad line is named with its line number on stderr and skipped; exit status 1 then.
    """
    from listen.lines import Repeats, located

    listener = _listener(missing="create")
    repeats = Repeats()  # a file of the wrong kind would print one long line per line
    name = "standard input" if file == "-" else file
    try:
        def bad(line_no: int, problem: Exception) -> None:
            if repeats.show(line_no, str(problem)):
                _say(f"{located(name, line_no, problem)}; skipped")  # the message may quote the line: inert

        result = listener.import_file(file, feed=feed, on_bad=bad)
    finally:
        listener.close()
    for summary in repeats.summary(name):
        _say(f"{summary}; skipped")
    n = result.new + result.updated
    print(f"imported {n} item{'s' if n != 1 else ''} ({result.new} new, {result.updated} updated)"
          + (f"; skipped {result.skipped} bad line{'s' if result.skipped != 1 else ''}" if result.skipped else ""))
    if result.skipped:
        raise typer.Exit(EXIT_ERROR)


@app.command()
def report(
    html_path: str = typer.Option(..., "--html", help="Write the HTML page here; - prints it.", metavar="FILE"),
    since: str = typer.Option("30d", "--since", help="The stats' period (e.g. 30d).", metavar="DURATION"),
) -> None:
    """One self-contained HTML page with who is waiting and how well we listen, to share or mail."""
    since_s = _duration(since, "--since")
    listener = _listener()
    try:
        view = listener.inbox(limit=200)
        figures = listener.stats(since_s)
    finally:
        listener.close()
    from listen.report import build, write

    page = build(view, figures)
    if html_path == "-":
        sys.stdout.write(page)
        return
    write(html_path, page)
    print(f"Wrote {html_path}")


def _classifier(feed: str | None) -> Any:
    """text -> Verdict, as the config (and its database's corrections, if any) would flag it."""
    from listen.config import DB_ENV, find_config, load
    from listen.flags import FlagSettings, classify

    path = find_config(state.config)
    named_db = state.db or os.environ.get(DB_ENV)  # a database named outright, not [store]'s default
    if path is None and not named_db:
        if feed is not None:
            raise typer.BadParameter("--feed needs a config file that names the feed", param_hint="--feed")
        plain = FlagSettings()
        return lambda text: classify(text, plain)
    config = load(path, db_override=state.db)
    for w in config.warnings:
        _say(f"warning: {w}")
    if feed is not None:
        config.feed(feed)  # an unknown name is an error
    from listen.app import database_missing, no_database

    if named_db and database_missing(config):
        # A database named outright must be there; [store]'s default may not exist yet.
        raise UsageError(no_database(config, state.db))
    from listen.policy import plain_policy

    policy = plain_policy(config)  # the user's thresholds, rules and feed kinds
    if config.db_url or config.db_path.is_file():  # what this database's corrections taught; never creates one
        from listen.app import Listener

        listener = Listener(config)
        try:
            policy = listener.policy()
        finally:
            listener.close()
    return lambda text: policy.verdict(text, feed)


@app.command()
def classify(
    texts: list[str] = typer.Argument(None, metavar="[TEXT]...", help="Texts to flag; none reads one per line from stdin."),
    as_jsonl: bool = typer.Option(False, "--jsonl", help="One JSON object per text, in input order."),
    feed: Optional[str] = typer.Option(None, "--feed", "-f", help="Flag as this feed would (its kind, thresholds and what corrections taught).", metavar="NAME"),
) -> None:
    """Flag texts as questions or negative remarks, and say why."""
    run = _classifier(feed)
    if not texts and sys.stdin.isatty():
        # Like sqlite3 or python at a terminal: say what the silence is waiting for, on stderr,
        # so pipes and scripts see nothing different.
        eof = "Ctrl-Z then Enter" if os.name == "nt" else "Ctrl-D"
        _say(f"type texts to flag, one per line; end with {eof} (or give them as arguments: listen classify \"TEXT\")")
    source = texts if texts else (line.rstrip("\r\n") for line in sys.stdin)
    if as_jsonl:
        from listen.parallel import ordered_map

        dumps = json.dumps

        def line(text: str) -> str:
            v = run(text)
            return dumps({"text": text, "question": v.question, "negative": v.negative,
                          "question_score": round(v.question_score, 4), "negative_score": round(v.negative_score, 4),
                          "reasons": v.reasons}, ensure_ascii=False) + "\n"

        line("")  # loads the models before any worker forks, so the workers share them
        sys.stdout.writelines(ordered_map(line, source))
        return
    from rich.table import Table
    from rich.text import Text

    from listen.text import inert

    table = Table(show_edge=False, header_style="bold")
    for col in ("text", "question", "negative", "why"):
        table.add_column(col)
    for text in source:
        v = run(text)
        table.add_row(Text(inert(text, limit=80, one_line=True)),
                      f"yes ({v.question_score:.2f})" if v.question else f"no ({v.question_score:.2f})",
                      f"yes ({v.negative_score:.2f})" if v.negative else f"no ({v.negative_score:.2f})",
                      Text(inert("; ".join(v.reasons), limit=200)))
    _out().print(table)


@app.command()
def mark(
    ids: list[str] = typer.Argument(..., metavar="ID...", help="Ids from `listen inbox`."),
    is_question: bool = typer.Option(False, "--question", help="It asks something of us."),
    not_question: bool = typer.Option(False, "--not-question", help="It does not ask anything of us."),
    is_negative: bool = typer.Option(False, "--negative", help="It is a negative remark."),
    not_negative: bool = typer.Option(False, "--not-negative", help="It is not a negative remark."),
) -> None:
    """Correct items' flags. Kept through pulls, reflag and export/import; teaches the detectors of this database."""
    from listen import render

    # Separate flags rather than --question/--not-question, so that both at once is an error
    # instead of "the last one wins".
    for yes, no, name in ((is_question, not_question, "question"), (is_negative, not_negative, "negative")):
        if yes and no:
            raise typer.BadParameter(f"--{name} and --not-{name} contradict each other; give one",
                                     param_hint=f"--not-{name}")
    question = True if is_question else False if not_question else None
    negative = True if is_negative else False if not_negative else None
    if question is None and negative is None:
        raise typer.BadParameter("give --question, --not-question, --negative or --not-negative", param_hint="ID...")
    listener = _listener()
    try:
        items = listener.mark(ids, question=question, negative=negative)
    finally:
        listener.close()
    for it in items:
        _out().print(render.triaged([it], "marked: " + (", ".join(it.flags) or "no flag")), end="")
    print("run `listen reflag` to re-score the other mentions with what this taught (each pull does the inbox's window)")


@app.command()
def flags(as_json: bool = typer.Option(False, "--json", help="One JSON object.")) -> None:
    """Your corrections, each feed's thresholds before and after learning, and how well both do on the corrections."""
    listener = _listener()
    try:
        data = listener.flags_report()
    finally:
        listener.close()
    if as_json:
        _print_json(data)
        return
    from listen.corrections import render

    _out().print(render(data))


@app.command()
def reflag() -> None:
    """Re-apply [identity] names (which items are ours, so which are answered) and re-run
    the flag detectors on stored mentions (after an upgrade or a rules change)."""
    listener = _listener()
    try:
        sides = listener.identity_changed + listener.apply_identity(force=True)
        n = listener.reflag()
    finally:
        listener.close()
    if sides:
        print(f"re-decided {sides} item{'s' if sides != 1 else ''} by [identity] names")
    print(f"re-flagged {n} item{'s' if n != 1 else ''}")


@app.command()
def demo(
    keep: Optional[Path] = typer.Option(None, "--keep", help="Keep the demo database in this folder instead of a throwaway one.", metavar="DIR"),
) -> None:
    """The whole loop on sample conversations shipped with listen: offline, in a throwaway database."""
    from listen.demo import run_demo

    run_demo(_out(), keep, clock=_clock())


def main() -> None:
    """Console entry point: the one place errors become messages and exit codes."""
    import importlib

    # click's own errors (unknown option, bad value) come here too, rather than being printed
    # inside typer, so that an option put after the command can get its hint.
    click_errors = importlib.import_module(typer.BadParameter.__module__)
    try:
        code = app(standalone_mode=False)  # a typer.Exit's code, or what the command returned (None)
        if isinstance(code, int) and code:
            sys.exit(code)
    except click_errors.ClickException as e:
        if isinstance(e, click_errors.NoSuchOption):
            hint = _global_option_hint(e.option_name, e.ctx, sys.argv[1:])
            if hint:
                e.message, e.possibilities = f"{e.message}\n{hint}", None
        e.show()
        sys.exit(e.exit_code)
    except typer.Abort:
        print("Aborted!", file=sys.stderr)
        sys.exit(1)
    except ConfigError as e:
        _say(str(e))
        sys.exit(EXIT_USAGE)
    except UsageError as e:
        _say(str(e))
        sys.exit(EXIT_USAGE)
    except Busy as e:
        _say(str(e))
        sys.exit(EXIT_BUSY)
    except ListenError as e:
        _log_traceback(e)
        _say(str(e))
        sys.exit(EXIT_ERROR)
    except KeyboardInterrupt:
        print("listen: interrupted", file=sys.stderr)
        sys.exit(130)
    except Exception as e:  # a bug: one line by default, the traceback (without locals) under --debug
        if state.debug:
            from listen import log

            log.get("cli").error("unexpected error", exc_info=e)
        _say(f"unexpected {type(e).__name__}: {_redacted(str(e).splitlines()[0] if str(e) else '')} "
             "(a bug in listen; `listen --debug ...` prints the traceback for a report)")
        sys.exit(EXIT_ERROR)


def _global_option_hint(option: str, ctx: Any, args: list[str]) -> str | None:
    """`listen pull -v`: -v belongs to listen itself, before the command. Says so, with the
    command line rewritten, when the unknown option is one of listen's own."""
    if ctx is None or ctx.parent is None:
        return None  # unknown to listen itself: click's message is the whole story
    name = option.split("=", 1)[0]
    own = next((p for p in ctx.find_root().command.params if name in (*p.opts, *p.secondary_opts)), None)
    if own is None:
        return None
    import shlex

    at = next((i for i, a in enumerate(args) if a == option or a.startswith(name + "=")), None)
    if at is None:  # bundled short flags (-vq) and the like: no rewrite, just where it goes
        return f"{name} goes before the command: listen {name} {ctx.info_name} ..."
    takes_value = not getattr(own, "is_flag", False) and "=" not in args[at]
    moved = args[at:at + 2] if takes_value else args[at:at + 1]
    rest = args[:at] + args[at + len(moved):]
    try:
        cut = rest.index(ctx.info_name)
    except ValueError:
        cut = 0
    fixed = rest[:cut] + moved + rest[cut:]
    return f"{name} goes before the command: {shlex.join(['listen', *fixed])}"


def _redacted(text: str) -> str:
    from listen import log

    return log.REDACT.redact(text)


def _log_traceback(e: BaseException) -> None:
    """Under --debug, where an error the user sees in words was raised."""
    if state.debug:
        from listen import log

        log.get("cli").debug("%s raised here:", type(e).__name__, exc_info=e)
