"""Tokens come from the environment, go to their own server, and nowhere else.

A recognisable token is planted in the environment; servers echo it back in error
bodies and headers; then every output listen makes is searched for it.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.helpers import listen_here, write_config
from tests.replay import ReplayServer, Reply
from tests.test_crash import invoke, run

GH_TOKEN = "ghp_PLANTEDgithubTOKEN0123456789abcdefXYZ"
MASTO_TOKEN = "PLANTEDmastodonTOKEN_0123456789abcdefABCDEFghij"
SE_KEY = "PLANTEDstackKEY((0123456789"
SECRETS = (GH_TOKEN, MASTO_TOKEN, SE_KEY, "PLANTED")


def echo(status: int):
    """A server that quotes the request's credentials back, in its body and a header."""
    def reply(req):
        said = f"{req.headers.get('authorization', '')} {req.query}"
        return Reply(status, {"message": f"Bad credentials: {said}", "error": said,
                              "error_id": 403, "error_name": "access_denied", "error_message": said},
                     {"X-Debug": said.replace("\n", " ")[:200], "WWW-Authenticate": f'Bearer error="{said[:60]}"'})
    return reply


def assert_clean(where: str, data: bytes | str) -> None:
    blob = data.encode("utf-8", "replace") if isinstance(data, str) else data
    for secret in SECRETS:
        assert secret.encode() not in blob, f"{secret} leaked into {where}"


@pytest.fixture
def other():
    srv = ReplayServer().start()
    yield srv
    srv.stop()


@pytest.fixture
def leaky(tmp_path, server, other):
    server.always("/gh401/user", echo(401))
    server.always("/gh500/user", echo(500))
    server.always("/m500/api/v1/accounts/verify_credentials", echo(500))
    # A redirect to another origin must not carry the token along.
    server.always("/mredir/api/v1/accounts/verify_credentials",
                  Reply(302, headers={"Location": other.url + "/api/v1/accounts/verify_credentials"}))
    other.always("/api/v1/accounts/verify_credentials", echo(200))
    server.always("/se/questions", echo(400))
    feeds = [
        {"name": "gh401", "type": "github", "repo": "acme/w", "token_env": "LISTEN_GITHUB_TOKEN",
         "base_url": server.url + "/gh401"},
        {"name": "gh500", "type": "github", "repo": "acme/w", "token_env": "LISTEN_GITHUB_TOKEN",
         "base_url": server.url + "/gh500"},
        {"name": "m500", "type": "mastodon", "instance": server.url + "/m500", "token_env": "LISTEN_MASTODON_TOKEN"},
        {"name": "mredir", "type": "mastodon", "instance": server.url + "/mredir", "token_env": "LISTEN_MASTODON_TOKEN"},
        {"name": "se", "type": "stackexchange", "site": "stackoverflow", "tagged": "acme", "key_env": "LISTEN_SE_KEY",
         "base_url": server.url + "/se"},
    ]
    (tmp_path / "m.jsonl").write_text(json.dumps({"id": "1", "author": "ann", "text": "Hello?", "created_at": 1770000000}) + "\n")
    feeds.append({"name": "ok", "type": "jsonl", "path": "m.jsonl"})
    cfg = write_config(tmp_path / "listen.toml", feeds)
    cfg.chmod(0o600)
    env = {"LISTEN_GITHUB_TOKEN": GH_TOKEN, "LISTEN_MASTODON_TOKEN": MASTO_TOKEN, "LISTEN_SE_KEY": SE_KEY}
    return tmp_path, cfg, env


def test_a_planted_token_reaches_its_server_and_nothing_else(leaky, server, other, monkeypatch, capsys):
    tmp, cfg, env = leaky
    r = run("--config", str(cfg), "pull", env=env)
    assert r.returncode == 1
    assert_clean("pull stdout", r.stdout)
    assert_clean("pull stderr", r.stderr)
    assert {"gh401", "gh500", "m500", "mredir", "se"} <= {line.split(":")[1].strip() for line in r.stderr.splitlines()
                                                          if ": failed: " in line}, r.stderr
    assert "LISTEN_GITHUB_TOKEN" in r.stderr  # the refusal names the variable, never its value
    # It was really sent, to its own server only.
    assert server.hits("/gh401/user")[0].headers["authorization"] == f"Bearer {GH_TOKEN}"
    assert server.hits("/se/questions")[0].query["key"] == [SE_KEY]
    assert all("authorization" not in seen.headers for seen in other.requests)

    for k, v in env.items():
        monkeypatch.setenv(k, v)
    outputs = {
        "inbox": invoke(capsys, "--config", str(cfg), "inbox"),
        "inbox --json": invoke(capsys, "--config", str(cfg), "inbox", "--json", "--all"),
        "feeds": invoke(capsys, "--config", str(cfg), "feeds"),
        "feeds --check": invoke(capsys, "--config", str(cfg), "feeds", "--check"),
        "export jsonl": invoke(capsys, "--config", str(cfg), "export"),
        "export csv": invoke(capsys, "--config", str(cfg), "export", "--format", "csv"),
        "stats --json": invoke(capsys, "--config", str(cfg), "stats", "--json"),
    }
    for name, res in outputs.items():
        assert "Traceback" not in res.stderr, (name, res.stderr)
        assert_clean(name + " stdout", res.stdout)
        assert_clean(name + " stderr", res.stderr)
    assert "gh500" in outputs["feeds"].stdout and "HTTP 500" in outputs["feeds"].stdout
    for f in tmp.iterdir():  # the database, its WAL, the lock: every byte on disk
        if f.is_file() and f.name != "listen.toml":
            assert_clean(f.name, f.read_bytes())
    c = __import__("sqlite3").connect(tmp / "listen.db")
    errors = [row[0] for row in c.execute("SELECT last_error FROM feeds WHERE last_error IS NOT NULL")]
    c.close()
    assert len(errors) >= 5 and all(e for e in errors)


@pytest.mark.parametrize("bad", [GH_TOKEN + "\r\n", GH_TOKEN + "\x07x", GH_TOKEN + "\xff"])
def test_a_token_with_stray_bytes_is_refused_without_being_quoted(tmp_path, server, bad):
    """A token pasted with a newline or a stray byte breaks the header; the error must not quote it."""
    server.always("/gh/user", echo(200))
    cfg = write_config(tmp_path / "listen.toml", [{"name": "gh", "type": "github", "repo": "acme/w",
                                                   "token_env": "LISTEN_GITHUB_TOKEN", "base_url": server.url + "/gh"}])
    cfg.chmod(0o600)
    r = listen_here("--config", str(cfg), "pull", env={"LISTEN_GITHUB_TOKEN": bad})
    assert r.returncode == 1 and "Traceback" not in r.stderr and "gh: failed" in r.stderr
    assert_clean("stderr", r.stderr)
    for f in tmp_path.glob("listen.db*"):
        assert_clean(f.name, f.read_bytes())


# -- the config file -----------------------------------------------------------


def _cfg(tmp_path: Path, feed: dict, mode: int = 0o600) -> Path:
    cfg = write_config(tmp_path / "listen.toml", [feed])
    cfg.chmod(mode)
    return cfg


def test_a_token_written_inline_gets_a_warning_even_under_quiet(tmp_path):
    (tmp_path / "m.jsonl").write_text("")
    cfg = _cfg(tmp_path, {"name": "ex", "type": "jsonl", "path": "m.jsonl"})
    cfg.write_text(cfg.read_text() + f'\n[flags]\nnever_negative = ["{GH_TOKEN}"]\n')
    r = listen_here("--config", str(cfg), "pull", "--quiet")
    assert r.returncode == 0 and r.stdout == ""
    assert "warning: flags.never_negative[0] looks like a secret" in r.stderr
    assert_clean("the warning", r.stderr)  # it says where, never what


def test_a_token_under_a_secret_key_is_a_config_error_that_does_not_quote_it(tmp_path):
    cfg = _cfg(tmp_path, {"name": "gh", "type": "github", "repo": "acme/w", "token": GH_TOKEN})
    r = listen_here("--config", str(cfg), "pull")
    assert r.returncode == 2 and "token_env" in r.stderr and "looks like a secret" in r.stderr
    assert_clean("stderr", r.stderr)


def test_the_token_itself_in_a_token_env_key_is_caught(tmp_path):
    """`token_env = "ghp_..."` would otherwise end as "variable ghp_... is not set", in the DB and on screen."""
    cfg = _cfg(tmp_path, {"name": "gh", "type": "github", "repo": "acme/w", "token_env": GH_TOKEN})
    r = listen_here("--config", str(cfg), "pull")
    assert r.returncode == 2 and "token_env" in r.stderr and "the secret itself" in r.stderr
    assert_clean("stderr", r.stderr)
    assert not (tmp_path / "listen.db").exists()


def test_a_readable_config_that_only_names_variables_gets_no_warning(tmp_path):
    """*_env keys hold a variable's name, not a secret: a 0644 file naming them (as `listen init`
    once wrote it and config.example.toml does) must not mail cron every ten minutes."""
    (tmp_path / "m.jsonl").write_text("")
    cfg = write_config(tmp_path / "listen.toml", [
        {"name": "ex", "type": "jsonl", "path": "m.jsonl"},
        {"name": "gh", "type": "github", "repo": "acme/w", "token_env": "LISTEN_GITHUB_TOKEN", "enabled": False}],
        extra='[[alerts]]\nname = "chat"\ntype = "slack"\nurl_env = "LISTEN_SLACK_WEBHOOK"\n')
    cfg.chmod(0o644)
    r = listen_here("--config", str(cfg), "pull", "--quiet")
    assert r.returncode == 0 and r.stderr == "", r.stderr


PRIVATE_FEED = "https://github.com/acme.private.atom?token=PLANTEDfeedTOKEN"


@pytest.mark.parametrize("mode, warned", [(0o644, True), (0o640, True), (0o600, False)])
def test_a_config_holding_a_secret_that_others_can_read(tmp_path, mode, warned):
    """A private feed's URL carries its token: that file must not be readable by others.
    Warned once per run, under --quiet too (cron mails it), naming where and never what."""
    (tmp_path / "m.jsonl").write_text("")
    cfg = write_config(tmp_path / "listen.toml", [{"name": "ex", "type": "jsonl", "path": "m.jsonl"},
                                                  {"name": "gh", "type": "rss", "url": PRIVATE_FEED, "enabled": False}])
    cfg.chmod(mode)
    r = listen_here("--config", str(cfg), "pull", "--quiet")
    assert r.returncode == 0
    assert r.stderr.count("can be read by other users") == (1 if warned else 0), r.stderr
    if warned:
        assert f"(mode {mode:o}) and holds a secret (feeds[1].url); run `chmod 600 {cfg}`" in r.stderr
    assert "PLANTEDfeedTOKEN" not in r.stderr


@pytest.mark.parametrize("url, held", [
    ("https://blog.example.com/comments/feed/", False), ("https://h/search?q=acme&sort=new", False),
    ("https://h/?authors=bob", False), ("https://api.stackexchange.com/2.3", False),
    (PRIVATE_FEED, True), ("https://user:pw@h/feed", True), ("https://h/rss?api_key=x", True),
    ("https://h/feeds/8f3a9c2e1b7d4f6a9e0c3b5d7f1a2e4c/rss", True), ("https://h/x?sig=abc", True),
])
def test_which_urls_hold_a_secret(url, held):
    from listen.config import url_secret

    assert url_secret(url) == held


def test_init_writes_a_private_file(tmp_path):
    target = tmp_path / "conf" / "listen.toml"
    assert listen_here("init", str(target)).returncode == 0
    assert target.stat().st_mode & 0o777 == 0o600
    target.chmod(0o644)
    assert listen_here("init", str(target), "--force").returncode == 0
    assert target.stat().st_mode & 0o777 == 0o600


def test_a_readable_config_without_secrets_is_fine(tmp_path):
    (tmp_path / "m.jsonl").write_text("")
    cfg = _cfg(tmp_path, {"name": "ex", "type": "jsonl", "path": "m.jsonl"}, 0o644)
    r = listen_here("--config", str(cfg), "pull")
    assert r.returncode == 0 and r.stderr == ""
