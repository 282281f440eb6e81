"""Alerts end to end on real parts: an HTTP receiver and an SMTP server on 127.0.0.1, a real
command, real SQLite files, real `listen` processes where overlap and SIGKILL matter."""

from __future__ import annotations

import json
import os
import signal
import sqlite3
import ssl
import subprocess
import sys
import threading
import time
from email import message_from_bytes, policy
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from listen.app import Listener
from listen.config import load
from listen.errors import ConfigError
from listen.storage import schema
from tests.helpers import jsonl, make_v1_database

ROOT = Path(__file__).resolve().parents[1]
NOW = 1_770_000_000  # 2026-02-02 02:40 UTC
H = 3600
SECRET_PATH = "/hooks/T0SECRET/B0SECRET/xoxsecrettoken123"


class Receiver:
    """A webhook endpoint: records every POST as it arrives, then answers (after `delay`) with `status`."""

    def __init__(self) -> None:
        self.requests: list[dict] = []
        self.status = 200
        self.delay = 0.0
        self.reply: bytes | None = None  # the error body, when not the default quote of the request
        self.released = threading.Event()  # set at teardown: no handler outlives its test
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                receiver.requests.append({"path": self.path, "headers": dict(self.headers), "body": body})
                receiver.released.wait(receiver.delay)
                # A careless server quotes the request back, URL and all.
                reply = f"error at {self.path}".encode() if receiver.status >= 300 else b"ok"
                if receiver.status >= 300 and receiver.reply is not None:
                    reply = receiver.reply
                self.send_response(receiver.status)
                self.send_header("Content-Length", str(len(reply)))
                self.end_headers()
                self.wfile.write(reply)

            def log_message(self, *args) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        # A killed client leaves a broken pipe behind: not a traceback on another test's stderr.
        self.server.handle_error = lambda request, address: None  # type: ignore[method-assign]
        threading.Thread(target=self.server.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True).start()
        self.url = f"http://127.0.0.1:{self.server.server_port}"

    def bodies(self, path_part: str = "") -> list[dict]:
        return [json.loads(r["body"]) for r in self.requests if path_part in r["path"]]

    def ids(self, path_part: str = "") -> list[str]:
        return [i["id"] for b in self.bodies(path_part) for i in b["items"]]


@pytest.fixture
def receiver():
    r = Receiver()
    yield r
    r.released.set()
    r.server.shutdown()


MENTIONS = [
    {"id": "q1", "author": "ann", "text": "How do I export my data?", "created_at": NOW - 3 * H,
     "url": "https://example.com/q1"},
    {"id": "n1", "author": "bob", "text": "Your app is broken and nobody answers. Terrible.", "created_at": NOW - H},
    {"id": "ok", "author": "cat", "text": "Lovely post, thanks", "created_at": NOW - H},
]


def setup(tmp: Path, alerts: str, mentions=MENTIONS, reply_within: str = "2h") -> Path:
    jsonl(tmp / "m.jsonl", mentions)
    cfg = tmp / "listen.toml"
    cfg.write_text(f'[identity]\nnames = ["acme"]\n\n[[feeds]]\nname = "ex"\ntype = "jsonl"\npath = "m.jsonl"\n'
                   f'reply_within = "{reply_within}"\n\n{alerts}')
    cfg.chmod(0o600)
    return cfg


def webhook(name: str, kind: str, env: str, extra: str = "") -> str:
    return f'[[alerts]]\nname = "{name}"\ntype = "{kind}"\nurl_env = "{env}"\n{extra}\n'


def listener(cfg: Path, now: int = NOW) -> Listener:
    return Listener(load(cfg), clock=lambda: now)


def pull(cfg: Path, now: int = NOW) -> tuple[list, list]:
    lst = listener(cfg, now)
    alerts: list = []
    try:
        results = lst.pull(on_alert=alerts.append)
    finally:
        lst.close()
    return results, alerts


def rows(cfg: Path) -> list[tuple]:
    c = sqlite3.connect(cfg.parent / "listen.db")
    try:
        return c.execute("SELECT alert, key, state, attempts, last_error FROM alert_sends ORDER BY alert, key").fetchall()
    finally:
        c.close()


def dump(cfg: Path) -> str:
    return "\n".join(sqlite3.connect(cfg.parent / "listen.db").iterdump())


def test_each_chat_type_gets_its_own_format_and_each_item_goes_once(tmp_path, receiver, monkeypatch):
    for kind in ("webhook", "slack", "mattermost", "discord", "ntfy"):
        monkeypatch.setenv(f"HOOK_{kind.upper()}", f"{receiver.url}/{kind}{SECRET_PATH}")
    cfg = setup(tmp_path, "".join(webhook(k, k, f"HOOK_{k.upper()}") for k in
                                  ("webhook", "slack", "mattermost", "discord", "ntfy")))
    results, alerts = pull(cfg)
    assert all(r.ok for r in results) and all(a.ok and a.sent for a in alerts)
    assert len(receiver.requests) == 5

    hook = receiver.bodies("/webhook/")[0]
    assert sorted(i["id"] for i in hook["items"]) and {i["author"] for i in hook["items"]} == {"ann", "bob"}
    record = next(i for i in hook["items"] if i["author"] == "ann")
    lst = listener(cfg)
    from listen.export import waiting_record

    inbox_json = {r["author"]: r for r in (waiting_record(i, NOW) for i in lst.inbox().items)}
    lst.close()
    assert record == inbox_json["ann"]  # the inbox --json object, exactly
    assert "2 people waiting" in hook["text"]

    slack = receiver.bodies("/slack/")[0]
    assert set(slack) >= {"text"} and "<https://example.com/q1|reply>" in slack["text"]
    assert "1h over target" in slack["text"]  # ann: 3h waited, 2h target
    discord = receiver.bodies("/discord/")[0]
    assert discord["allowed_mentions"] == {"parse": []} and "[reply](<https://example.com/q1>)" in discord["content"]
    ntfy = next(r for r in receiver.requests if "/ntfy/" in r["path"])
    assert ntfy["headers"]["Priority"] == "high" and "2 people waiting" in ntfy["headers"]["Title"]
    assert b"Your app is broken" in ntfy["body"] and ntfy["headers"]["Content-Type"].startswith("text/plain")

    # A second pull, then a new mention: only the new one goes out, once per target.
    assert pull(cfg, NOW + 60)[1] and len(receiver.requests) == 5
    jsonl(tmp_path / "m.jsonl", [*MENTIONS, {"id": "q2", "author": "dan", "text": "Where is the invoice?",
                                             "created_at": NOW + 100}])
    pull(cfg, NOW + 200)
    assert len(receiver.requests) == 10
    assert all(b["items"][-1]["author"] == "dan" and len(b["items"]) == 1 for b in receiver.bodies("/webhook/")[1:])
    assert SECRET_PATH not in dump(cfg) and "xoxsecret" not in dump(cfg)


def test_a_failing_target_is_named_retried_next_pull_and_never_fails_the_pull(tmp_path, receiver):
    env = {"HOOK": f"{receiver.url}{SECRET_PATH}"}
    cfg = setup(tmp_path, webhook("team", "slack", "HOOK"), mentions=live_mentions())
    receiver.status = 503
    r = run_cli("--config", str(cfg), "pull", env=env)
    assert r.returncode == 0, r.stderr  # the feeds were fetched: the pull did its job
    assert "alert team: failed: HTTP 503" in r.stderr and "retried" in r.stderr
    assert "T0SECRET" not in r.stderr + r.stdout and "$HOOK" in r.stderr  # the server quoted the URL: redacted
    assert {(a, s) for a, _, s, _, _ in rows(cfg)} == {("team", "failed")}
    assert "T0SECRET" not in dump(cfg)

    r = run_cli("--config", str(cfg), "alert", env=env)
    assert r.returncode == 1 and "alert team: failed: HTTP 503" in r.stderr
    receiver.status = 200
    r = run_cli("--config", str(cfg), "pull", env=env)
    assert r.returncode == 0 and "alert team: sent 2 items" in r.stdout
    assert len(receiver.requests) == 3
    assert [s for _, _, s, _, _ in rows(cfg)] == ["sent", "sent"]
    assert [n for _, _, _, n, _ in rows(cfg)] == [3, 3]
    r = run_cli("--config", str(cfg), "alert", env=env)
    assert r.returncode == 0 and "alert team: nothing due" in r.stdout and len(receiver.requests) == 3


def test_an_unreachable_target_or_missing_variable_is_a_failure_in_words(tmp_path, monkeypatch):
    monkeypatch.setenv("HOOK", "http://127.0.0.1:9/hooks/T0SECRET")  # nothing listens on port 9
    cfg = setup(tmp_path, webhook("down", "discord", "HOOK") + webhook("unset", "webhook", "NOT_SET_ANYWHERE"))
    results, alerts = pull(cfg)
    assert all(r.ok for r in results)
    down, unset = alerts
    assert down.error and "connect" in down.error and "T0SECRET" not in down.error
    assert unset.error == "environment variable NOT_SET_ANYWHERE (named by url_env) is not set"


def test_pending_alert_is_dropped_once_the_item_is_done_or_answered(tmp_path, receiver, monkeypatch):
    monkeypatch.setenv("HOOK", f"{receiver.url}/x")
    cfg = setup(tmp_path, webhook("team", "webhook", "HOOK"))
    receiver.status = 500
    pull(cfg)
    assert [s for *_, s, _, _ in [(r[0], r[1], r[2], r[3], r[4]) for r in rows(cfg)]] == ["failed", "failed"]
    lst = listener(cfg)
    ids = {i.author: i.id for i in lst.inbox().items}
    lst.triage([ids["ann"]], "done")
    lst.close()
    # bob is answered by us meanwhile
    jsonl(tmp_path / "m.jsonl", [*MENTIONS, {"id": "r1", "author": "acme", "text": "Sorry, fixing it now",
                                             "created_at": NOW + 30, "in_reply_to": "n1"}])
    receiver.status = 200
    _, alerts = pull(cfg, NOW + 60)
    assert alerts[0].message is None and len(receiver.requests) == 1  # only the failed first try
    assert rows(cfg) == []  # nothing pending is left behind


def test_after_target_fires_at_the_breach(tmp_path, receiver, monkeypatch):
    monkeypatch.setenv("HOOK", f"{receiver.url}/x")
    cfg = setup(tmp_path, webhook("breach", "webhook", "HOOK", 'after = "target"\nwhen = ["question", "negative"]'))
    pull(cfg)  # ann waited 3h of a 2h target; bob 1h
    assert [i["author"] for i in receiver.bodies()[0]["items"]] == ["ann"]
    pull(cfg, NOW + H - 1)
    assert len(receiver.requests) == 1
    pull(cfg, NOW + H)  # bob reaches 2h
    assert [i["author"] for i in receiver.bodies()[1]["items"]] == ["bob"]


def test_digest_lists_everyone_waiting_once_a_day_in_its_timezone(tmp_path, receiver, monkeypatch):
    monkeypatch.setenv("HOOK", f"{receiver.url}/x")
    # NOW is 02:40 UTC, 03:40 in Paris
    cfg = setup(tmp_path, webhook("morning", "webhook", "HOOK", 'digest = "04:00"\ntimezone = "Europe/Paris"'))
    pull(cfg)
    assert receiver.requests == []
    pull(cfg, NOW + 20 * 60)  # 04:00 in Paris
    (body,) = receiver.bodies()
    assert body["digest"] is True and sorted(i["author"] for i in body["items"]) == ["ann", "bob"]
    assert "digest" in body["text"] and "2 people waiting" in body["text"]
    pull(cfg, NOW + 5 * H)
    assert len(receiver.requests) == 1  # once a day
    pull(cfg, NOW + 24 * H + 20 * 60)  # next morning: still waiting, listed again
    assert len(receiver.requests) == 2 and len(receiver.bodies()[1]["items"]) == 2


def test_quiet_hours_hold_immediate_alerts_until_they_end(tmp_path, receiver, monkeypatch):
    monkeypatch.setenv("HOOK", f"{receiver.url}/x")
    cfg = setup(tmp_path, webhook("night", "webhook", "HOOK", 'quiet = "22:00-07:00"'))
    pull(cfg)  # 02:40 UTC
    assert receiver.requests == [] and rows(cfg) == []
    pull(cfg, NOW + 4 * H + 20 * 60)  # 07:00
    assert len(receiver.ids()) == 2


def test_command_target_reads_the_items_on_stdin(tmp_path):
    out = tmp_path / "got.json"
    copy = "import sys; open(sys.argv[1], 'wb').write(sys.stdin.buffer.read())"
    cfg = setup(tmp_path, f'[[alerts]]\nname = "script"\ntype = "command"\nwhen = ["negative"]\n'
                          f'command = ["{sys.executable}", "-c", "{copy}", "{out}"]\n'
                          '[[alerts]]\nname = "broken"\ntype = "command"\ncommand = ["sh", "-c", "echo nope >&2; exit 3"]\n')
    _, (ok, broken) = pull(cfg)
    got = json.loads(out.read_text())
    assert ok.sent and [i["author"] for i in got["items"]] == ["bob"] and got["items"][0]["flags"] == ["negative"]
    assert broken.error == "sh exited 3: nope"


def test_hostile_names_and_texts_stay_inert_as_received(tmp_path, receiver, monkeypatch):
    monkeypatch.setenv("HOOK_S", f"{receiver.url}/slack")
    monkeypatch.setenv("HOOK_D", f"{receiver.url}/discord")
    monkeypatch.setenv("HOOK_M", f"{receiver.url}/mattermost")
    hostile = [{"id": "h1", "author": "@channel", "author_name": "<!everyone>\r\nBcc: x@evil.example",
                "text": "@here <!channel> <@U024BE7LH> [Your invoice](https://evil.example) "
                        "<https://evil.example|Reset password> is this broken?",
                "created_at": NOW - H, "url": "https://example.com/h1"}]
    cfg = setup(tmp_path, webhook("s", "slack", "HOOK_S") + webhook("d", "discord", "HOOK_D")
                + webhook("m", "mattermost", "HOOK_M"), mentions=hostile)
    pull(cfg)
    assert len(receiver.requests) == 3
    for r in receiver.requests:
        text = json.loads(r["body"]).get("text") or json.loads(r["body"])["content"]
        for bad in ("@channel", "@here", "@everyone", "<!channel>", "<!everyone>", "<@U024BE7LH>",
                    "<https://evil.example|"):
            assert bad not in text, (r["path"], bad)
        if "/slack" not in r["path"]:  # Slack's mrkdwn has no [text](url) links; the others' Markdown has
            assert "[Your invoice](https" not in text and "\\[Your invoice\\](https" in text
        assert "\r" not in text and "Bcc: x＠evil.example" in text


def test_generic_webhook_text_is_plain_and_still_inert(tmp_path, receiver, monkeypatch):
    monkeypatch.setenv("HOOK", f"{receiver.url}/webhook")
    hostile = [{"id": "h1", "author": "@channel", "author_name": "<!everyone> & co",
                "text": "@here <!channel> <@U024BE7LH> <https://evil.example|Reset password> \u202eevil\x1b[2J &amp; "
                        "is this broken?", "created_at": NOW - H, "url": "https://example.com/h1/@here"}]
    cfg = setup(tmp_path, webhook("w", "webhook", "HOOK"), mentions=hostile)
    pull(cfg)
    [req] = receiver.requests
    body = json.loads(req["body"])
    text = body["text"]
    for bad in ("&lt;", "&gt;", "&amp;lt;", "@channel", "@here", "@everyone", "<!channel>", "<!everyone>",
                "<@U024BE7LH>", "<https://evil.example|", "\x1b", "\u202e"):
        assert bad not in text, bad
    # what a person reads: the stranger's words, disarmed but not entity-encoded
    assert "＠channel (＜!everyone＞ & co): ＠here ＜!channel＞ ＜＠U024BE7LH＞ ＜https://evil.example|Reset password＞" in text
    assert "<U+202E>evil^[[2J &amp; is this broken?" in text  # controls visible; the stranger's own &amp; as typed
    assert "reply: https://example.com/h1/%40here" in text  # our link, bare, cannot ping
    assert body["items"][0]["text"] == hostile[0]["text"]  # the inbox --json object, exactly as stored


def test_dry_run_prints_and_sends_and_records_nothing(tmp_path, receiver):
    env = {"HOOK": f"{receiver.url}{SECRET_PATH}"}
    cfg = setup(tmp_path, webhook("team", "slack", "HOOK") + '[[alerts]]\nname = "mail"\ntype = "email"\n'
                'to = ["team@example.com"]\nfrom = "listen@example.com"\nsmtp_host = "127.0.0.1"\nsmtp_port = 9\n',
                mentions=live_mentions())
    # store the mentions without alerting: a pull with the target unset would record a failure
    assert run_cli("--config", str(cfg), "pull", env={"HOOK": ""}).returncode == 0
    sqlite3.connect(tmp_path / "listen.db").execute("DELETE FROM alert_sends").connection.commit()
    r = run_cli("--config", str(cfg), "alert", "--dry-run", env=env)
    assert r.returncode == 0, r.stderr
    assert "── alert team (slack): would send" in r.stdout and '"text": "listen (team)' in r.stdout
    assert "── alert mail (email): would send" in r.stdout and "Subject: listen (mail)" in r.stdout
    assert "How do I export my data?" in r.stdout
    assert receiver.requests == [] and rows(cfg) == []
    assert "T0SECRET" not in r.stdout + r.stderr


def test_listen_alert_without_alerts_says_so(tmp_path):
    cfg = setup(tmp_path, "")
    r = run_cli("--config", str(cfg), "alert")
    assert r.returncode == 0 and "no [[alerts]]" in r.stderr


# -- mail ---------------------------------------------------------------------------


@pytest.fixture
def smtp(tmp_path):
    """aiosmtpd on a free port: STARTTLS with a certificate made now, AUTH required (user ann, password s3cret!)."""
    trustme = pytest.importorskip("trustme")
    controller_mod = pytest.importorskip("aiosmtpd.controller")
    from aiosmtpd.smtp import AuthResult, LoginPassword

    ca = trustme.CA()
    cert = ca.issue_cert("127.0.0.1", "localhost")
    server_ctx = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    cert.configure_cert(server_ctx)
    cafile = tmp_path / "ca.pem"
    ca.cert_pem.write_to_path(str(cafile))

    class Handler:
        def __init__(self) -> None:
            self.mails: list[bytes] = []

        async def handle_DATA(self, server, session, envelope):
            self.mails.append(envelope.original_content or envelope.content)
            return "250 OK"

    def authenticator(server, session, envelope, mechanism, auth_data):
        ok = isinstance(auth_data, LoginPassword) and (auth_data.login, auth_data.password) == (b"ann", b"s3cret!")
        return AuthResult(success=ok, handled=False)  # handled=False: aiosmtpd answers 535 itself

    handler = Handler()
    import socket

    with socket.socket() as sock:  # a free port (the controller needs one before it starts)
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    ctl = controller_mod.Controller(handler, hostname="127.0.0.1", port=port, tls_context=server_ctx,
                                    require_starttls=True, auth_required=True, authenticator=authenticator)
    ctl.start()
    handler.port = port
    handler.cafile = cafile
    yield handler
    ctl.stop()


def mail_alert(port: int, cafile: Path) -> str:
    return ('[[alerts]]\nname = "mail"\ntype = "email"\nto = ["team@example.com"]\nfrom = "listen@example.com"\n'
            f'smtp_host = "127.0.0.1"\nsmtp_port = {port}\nusername_env = "SMTP_USER"\npassword_env = "SMTP_PASS"\n'
            f'cafile = "{cafile}"\n')


def test_mail_over_starttls_with_login_text_and_html(tmp_path, smtp, monkeypatch):
    monkeypatch.setenv("SMTP_USER", "ann")
    monkeypatch.setenv("SMTP_PASS", "wrong-password-xyz")
    hostile = [*MENTIONS, {"id": "h", "author": "eve\r\nBcc: victim@example.com", "created_at": NOW - H,
                           "text": "Subject: free money\r\n\r\n<script>alert(1)</script> why is this broken?"}]
    cfg = setup(tmp_path, mail_alert(smtp.port, smtp.cafile), mentions=hostile)
    results, (a,) = pull(cfg)
    assert all(r.ok for r in results)
    assert a.error == "the mail server refused the login (535)" and smtp.mails == []
    assert "wrong-password-xyz" not in dump(cfg)

    monkeypatch.setenv("SMTP_PASS", "s3cret!")
    _, (a,) = pull(cfg, NOW + 60)  # retried on the next pull
    assert a.sent and a.error is None
    (raw,) = smtp.mails
    mail = message_from_bytes(raw, policy=policy.default)
    assert mail["Subject"].startswith("listen (mail): 3 people waiting for a reply")
    assert mail["To"] == "team@example.com" and mail["Bcc"] is None
    plain = mail.get_body(("plain",)).get_content()
    html = mail.get_body(("html",)).get_content()
    assert "How do I export my data?" in plain and "1h 1m over target" in plain
    assert "<script>" not in html and "&lt;script&gt;" in html and "class=\"item" in html
    assert "s3cret!" not in dump(cfg)


def test_mail_refused_without_starttls_is_a_failure(tmp_path, smtp, monkeypatch):
    monkeypatch.setenv("SMTP_USER", "ann")
    monkeypatch.setenv("SMTP_PASS", "s3cret!")
    cfg = setup(tmp_path, mail_alert(smtp.port, smtp.cafile) + "starttls = false\n")
    _, (a,) = pull(cfg)
    assert a.error == "SMTP AUTH extension not supported by server." and smtp.mails == []  # never sent in clear


def test_mail_over_implicit_tls(tmp_path):
    """ssl = true: TLS from the first byte (port 465 style), the certificate verified against cafile."""
    trustme = pytest.importorskip("trustme")
    controller_mod = pytest.importorskip("aiosmtpd.controller")
    import socket

    ca = trustme.CA()
    server_ctx = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    ca.issue_cert("127.0.0.1").configure_cert(server_ctx)
    ca.cert_pem.write_to_path(str(tmp_path / "ca.pem"))
    mails: list[bytes] = []

    class Handler:
        async def handle_DATA(self, server, session, envelope):
            mails.append(envelope.content)
            return "250 OK"

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    ctl = controller_mod.Controller(Handler(), hostname="127.0.0.1", port=port, ssl_context=server_ctx)
    ctl.start()
    try:
        alert = ('[[alerts]]\nname = "mail"\ntype = "email"\nto = ["team@example.com"]\nfrom = "listen@example.com"\n'
                 f'smtp_host = "127.0.0.1"\nsmtp_port = {port}\nssl = true\ncafile = "ca.pem"\n')
        _, (a,) = pull(setup(tmp_path, alert))
        assert a.sent and len(mails) == 1
        # the same server, but a CA we do not trust: refused, in words
        trustme.CA().cert_pem.write_to_path(str(tmp_path / "ca.pem"))
        jsonl(tmp_path / "m.jsonl", [*MENTIONS, {"id": "q9", "author": "zed", "text": "Any news?",
                                                 "created_at": NOW}])
        _, (a,) = pull(tmp_path / "listen.toml", NOW + 60)
        assert a.error and a.error.startswith("TLS failed") and len(mails) == 1
    finally:
        ctl.stop()


# -- overlap and SIGKILL: real processes --------------------------------------------------


def run_cli(*args: str, env: dict | None = None) -> subprocess.CompletedProcess:
    p = spawn(*args, env=env)
    out, err = p.communicate(timeout=60)
    return subprocess.CompletedProcess(p.args, p.returncode, out, err)


def spawn(*args: str, env: dict | None = None) -> subprocess.Popen:
    e = {**os.environ, "NO_COLOR": "1", "PYTHONPATH": str(ROOT), **(env or {})}
    return subprocess.Popen([sys.executable, "-m", "listen", *args], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            text=True, env=e)


def live_mentions() -> list[dict]:
    now = int(time.time())
    return [{**m, "created_at": now - (NOW - m["created_at"])} for m in MENTIONS]


def test_overlapping_runs_send_each_item_once(tmp_path, receiver):
    env = {"HOOK": f"{receiver.url}/x"}
    cfg = setup(tmp_path, webhook("team", "webhook", "HOOK"), mentions=live_mentions())
    assert run_cli("--config", str(cfg), "pull", env={"HOOK": ""}).returncode == 0
    sqlite3.connect(tmp_path / "listen.db").execute("DELETE FROM alert_sends").connection.commit()
    receiver.delay = 0.5  # each send is slow: the runs overlap while it is in flight
    procs = [spawn("--config", str(cfg), cmd, env=env) for cmd in ("pull", "alert", "alert", "pull")]
    for p in procs:
        p.communicate(timeout=60)
    assert sorted(receiver.ids()) == sorted(set(receiver.ids())) and len(receiver.ids()) == 2
    assert [s for _, _, s, _, _ in rows(cfg)] == ["sent", "sent"]


def test_a_pull_killed_mid_send_repeats_nothing_until_its_claim_is_stale(tmp_path, receiver):
    env = {"HOOK": f"{receiver.url}/x"}
    cfg = setup(tmp_path, webhook("team", "webhook", "HOOK"), mentions=live_mentions())
    receiver.delay = 30  # the target has the message; the pull waits for its answer
    p = spawn("--config", str(cfg), "pull", env=env)
    give_up = time.monotonic() + 30
    while not receiver.requests and time.monotonic() < give_up and p.poll() is None:
        time.sleep(0.01)
    assert receiver.requests, p.communicate()
    p.send_signal(signal.SIGKILL)
    p.wait(10)
    assert [s for _, _, s, _, _ in rows(cfg)] == ["sending", "sending"]  # claimed, never marked sent

    receiver.delay = 0
    r = run_cli("--config", str(cfg), "pull", env=env)  # minutes later, the claim still holds
    assert r.returncode == 0 and len(receiver.requests) == 1
    # Past STALE_CLAIM the dead run's claim is taken over: the documented repeat.
    from listen.alerts.rules import STALE_CLAIM

    lst = Listener(load(cfg), clock=lambda: time.time() + STALE_CLAIM + 1)
    os.environ["HOOK"] = env["HOOK"]
    try:
        (res,) = lst.alert()
    finally:
        del os.environ["HOOK"]
        lst.close()
    assert res.sent and len(receiver.requests) == 2
    first, second = receiver.bodies()
    assert first["items"] == [{**i, "waiting_seconds": i["waiting_seconds"]} for i in first["items"]]
    assert [i["id"] for i in first["items"]] == [i["id"] for i in second["items"]]  # the same message, once more
    assert [s for _, _, s, _, _ in rows(cfg)] == ["sent", "sent"]


# -- config and schema ---------------------------------------------------------------


def test_config_problems_are_listed_by_dotted_path(tmp_path):
    cfg = setup(tmp_path, '[[alerts]]\nname = "a"\ntype = "slak"\n'
                          '[[alerts]]\nname = "b"\ntype = "slack"\nwhen = ["angry"]\nafter = "soon"\nfeeds = ["exx"]\n'
                          'digest = "8am"\ntimezone = "Mars/Olympus"\nquiet = "22:00"\nurl = "https://hooks.slack.com/x"\n'
                          '[[alerts]]\nname = "c"\ntype = "email"\nto = ["nobody"]\nsmtp_host = "h"\nssl = true\n'
                          'starttls = true\npassword_env = "P"\n'
                          '[[alerts]]\nname = "d"\ntype = "command"\n')
    with pytest.raises(ConfigError) as e:
        load(cfg)
    p = "\n".join(e.value.problems)
    for expected in ["alerts[0] (a).type: 'slak' (did you mean 'slack'?)",
                     "alerts[1] (b).when: 'angry' is not a flag",
                     "alerts[1] (b).after: 'soon' is not a duration",
                     "alerts[1] (b).feeds: no feed named 'exx' (did you mean 'ex'?)",
                     "alerts[1] (b).digest: '8am' is not a time of day",
                     "alerts[1] (b).timezone: 'Mars/Olympus' is not a time zone",
                     "alerts[1] (b).quiet: '22:00' is not a range of hours",
                     "alerts[1] (b): unknown key 'url'",
                     "alerts[1] (b): missing required key 'url_env'",
                     "alerts[2] (c): missing required key 'from'",
                     "alerts[2] (c): 'nobody' is not a mail address",
                     "alerts[2] (c): choose ssl or starttls, not both",
                     "alerts[2] (c): username_env and password_env go together",
                     "alerts[3] (d): missing required key 'command'"]:
        assert expected in p, expected


def test_per_feed_reply_within_is_validated(tmp_path):
    cfg = setup(tmp_path, "", reply_within="soon")
    with pytest.raises(ConfigError) as e:
        load(cfg)
    assert any(p.startswith("feeds[0] (ex).reply_within:") for p in e.value.problems)
    assert load(setup(tmp_path, "", reply_within="4h")).reply_target("ex") == 4 * H


def test_a_version_1_database_gets_the_alert_table(tmp_path):
    db = tmp_path / "old.db"
    make_v1_database(db, ("INSERT INTO feeds (name, network) VALUES ('ex', 'jsonl')", ()))
    from listen.storage import open_store

    s = open_store(db)
    assert s.conn.execute("PRAGMA user_version").fetchone()[0] == schema.VERSION
    assert s.claim_alerts("a", ["1", "2"], "tok", NOW, NOW - 900) == ["1", "2"]
    assert s.claim_alerts("a", ["1", "3"], "other", NOW, NOW - 900) == ["3"]  # 1 is held
    s.finish_alerts("a", ["1", "2"], "tok", "sent", NOW)
    assert s.alert_records("a") == {"1": ("sent", NOW), "2": ("sent", NOW), "3": ("sending", NOW)}
    assert s.claim_alerts("a", ["3"], "late", NOW + 1000, NOW + 1000 - 900) == ["3"]  # stale: taken over
    assert [tuple(r) for r in s.conn.execute("SELECT name FROM feeds")] == [("ex",)]
    s.close()


# -- reply targets ---------------------------------------------------------------------


def test_inbox_and_report_mark_items_past_their_feeds_reply_target(tmp_path):
    from rich.console import Console

    from listen import render, report

    cfg = setup(tmp_path, "", reply_within="2h")
    lst = listener(cfg)
    lst.pull()
    view = lst.inbox()
    console = Console(width=100, record=True, file=open(os.devnull, "w"))
    console.print(render.inbox(view.items, view.summary, view.now, view.stale, view.max_age, over=view.over))
    text = console.export_text()
    assert "waiting 3h (1h over)" in text and text.count(" over)") == 1  # ann 3h of 2h; bob 1h
    page = report.build(view, lst.stats(30 * 86400))
    assert page.count("over target") == 1 and "1h over target" in page
    figures = lst.stats(30 * 86400)
    lst.close()
    assert figures["feeds"]["ex"]["reply_within_seconds"] == 2 * H
    assert "answered_within_target" in figures["weeks"][-1]


def test_dry_run_says_when_quiet_hours_hold_a_message(tmp_path, receiver, monkeypatch):
    monkeypatch.setenv("HOOK", f"{receiver.url}/x")
    cfg = setup(tmp_path, webhook("night", "webhook", "HOOK", 'quiet = "22:00-07:00"'))
    lst = listener(cfg)
    try:
        lst.pull()  # 02:40 UTC: quiet
        (r,) = lst.alert(dry_run=True)
    finally:
        lst.close()
    from listen.render import alert_line, dry_run

    assert r.message is None and r.note == "held by quiet hours"
    assert dry_run(r).endswith("nothing due (held by quiet hours)") and "quiet" in alert_line(r)


@pytest.mark.parametrize("value", ["hooks.example.com/services/T0SECRET/B0SECRET/xoxsecret1",
                                   "ftp://hooks.example.com/T0SECRET/xoxsecret1",
                                   "http://user:T0SECRETpw@127.0.0.1:9/T0SECRET/xoxsecret1",
                                   "http://[::1/T0SECRET/xoxsecret1"])
def test_a_malformed_webhook_url_is_never_quoted_back(value, monkeypatch):
    from listen.alerts import formats, send
    from listen.alerts.rules import AlertConfig

    monkeypatch.setenv("HOOK", value)
    alert = AlertConfig(name="team", type="slack", url_env="HOOK", timeout=2)
    with pytest.raises(send.AlertError) as e:
        send.deliver(alert, formats.build(alert, [], NOW, {}, False))
    assert "T0SECRET" not in str(e.value) and "xoxsecret" not in str(e.value), str(e.value)
    assert str(e.value).startswith("alert team: ")


def test_an_error_quoting_another_targets_url_or_a_feed_token_is_redacted(tmp_path):
    """QA: a relay's 500 page quoted ANOTHER target's webhook URL, and only the failing
    target's own secret was redacted: the other's token reached stderr and alert_sends.
    Every secret listen knows is removed from every alert error, whoever it belongs to."""
    relay, other = Receiver(), Receiver()
    try:
        env = {"HOOK_A": f"{relay.url}/hook/AAAsecret111", "HOOK_B": f"{other.url}/hook/SECRET123",
               "GH_TOKEN": "ghp_T0KENsecret0987654321"}
        relay.status = 500
        relay.reply = (f"upstream {env['HOOK_B']} failed; retried via http://127.0.0.1/hook/SECRET123"
                       f" with Authorization: {env['GH_TOKEN']} and {relay.url}/hook/AAAsecret111").encode()
        cfg = setup(tmp_path, webhook("a", "webhook", "HOOK_A") + webhook("b", "webhook", "HOOK_B"),
                    mentions=live_mentions())
        cfg.write_text(cfg.read_text() + '\n[[feeds]]\nname = "gh"\ntype = "github"\nrepo = "acme/app"\n'
                       'token_env = "GH_TOKEN"\n')
        assert run_cli("--config", str(cfg), "pull", "-f", "ex", env={**env, "HOOK_A": "", "HOOK_B": ""}).returncode == 0
        r = run_cli("--config", str(cfg), "alert", env=env)
        assert r.returncode == 1 and "alert a: failed: HTTP 500" in r.stderr, r.stderr
        assert "alert b: sent" in r.stdout, r.stdout
        said = r.stdout + r.stderr
        stored = [e for *_, e in rows(cfg) if e]
        assert len(stored) == 2, rows(cfg)  # both of a's items, failed with the redacted body
        for text in (said, *stored):
            assert "SECRET123" not in text and "AAAsecret" not in text and "T0KENsecret" not in text, text
        assert "$HOOK_B" in stored[0] and "$HOOK_A" in stored[0], stored[0]
        assert "SECRET123" not in dump(cfg) and "T0KENsecret" not in dump(cfg)
    finally:
        for rec in (relay, other):
            rec.released.set()
            rec.server.shutdown()
