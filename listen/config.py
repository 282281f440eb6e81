"""The config file: where it is, what it may say, and every problem in it at once.

Loaded inside commands, never at import time.
"""

from __future__ import annotations

import difflib
import os
import re
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable
from urllib.parse import parse_qsl, urlsplit

from listen.durations import parse_duration
from listen.errors import ConfigError, UsageError
from listen.flags import FlagSettings
from listen.kinds import KINDS, FeedFlags, feed_flags
from listen.sources import REGISTRY, FeedConfig, Option, source_class
from listen.waiting import DEFAULT_MAX_AGE, DEFAULT_REPLY_WITHIN

CONFIG_ENV = "LISTEN_CONFIG"
DB_ENV = "LISTEN_DB"

# Feed keys every type accepts.
COMMON_FEED_KEYS: dict[str, Option] = {
    "name": Option(str, "unique name, used in output and --feed", required=True),
    "type": Option(str, "which network: " + ", ".join(REGISTRY), required=True),
    "timeout": Option(str, "give up on this feed after this long", default="30s", duration=True),
    "enabled": Option(bool, "set to false to skip the feed without deleting it", default=True),
    # Flags that fit the feed (listen/kinds.py, docs/flags.md).
    "kind": Option(str, "mentions, support or blog: sets the flag thresholds' defaults"),
    "question_threshold": Option(float, "0..1; this feed's question threshold (default: from its kind)"),
    "negative_threshold": Option(float, "0..1; this feed's negative threshold (default: from its kind)"),
    "bots": Option(list, "authors on this feed that are bots: never waiting", default=[]),
    "reply_within": Option(str, "this feed's reply target (default: [inbox] reply_within)", duration=True),
}

SECTIONS: dict[str, dict[str, Option]] = {
    "store": {
        "path": Option(str, "the database file, relative to this file", default="listen.db"),
        "url": Option(str, "a postgresql:// URL: a shared PostgreSQL database instead of the file"),
        "password_env": Option(str, "the environment variable holding the PostgreSQL password"),
    },
    "identity": {"names": Option(list, "our handles and names", default=[]),
                 "me": Option(str, "who I am on the team (listen assign, inbox --mine); else $LISTEN_USER"),
                 "bots": Option(list, "authors that are bots, on every feed: never waiting", default=[])},
    "inbox": {
        "max_age": Option(str, "older unanswered mentions drop out", default=f"{DEFAULT_MAX_AGE // 86400}d",
                          duration=True),
        "reply_within": Option(str, "the response-time target", default=f"{DEFAULT_REPLY_WITHIN // 3600}h",
                               duration=True),
        "stale_after": Option(str, "name a feed at the top of the inbox when its last successful pull is older "
                                     "than this (about three pull intervals)", default="1h", duration=True),
    },
    "flags": {
        "question_threshold": Option(float, "0..1; higher flags fewer questions", default=0.5),
        "negative_threshold": Option(float, "0..1; higher flags fewer remarks", default=0.5),
        "never_negative": Option(list, "phrases that are never negative for us", default=[]),
        "always_negative": Option(list, "phrases that are always negative for us", default=[]),
        "never_question": Option(list, "phrases that never make a question", default=[]),
        "always_question": Option(list, "phrases that always make a question", default=[]),
    },
    "http": {
        "timeout": Option(str, "connect/read timeout per request", default="20s", duration=True),
        "max_size": Option(str, "largest response body accepted, e.g. 20MB", default="20MB"),
        "concurrency": Option(int, "feeds fetched at once", default=256, minimum=1),
    },
}

# Keys that look like a secret written inline: we point to the *_env form instead.
_SECRETISH = re.compile(r"(token|password|secret|api_key|apikey)$", re.I)
# Values shaped like credentials: GitHub, GitLab, Slack, OpenAI-style and AWS keys, JWTs,
# Bluesky app passwords, and long unbroken random-looking strings (Mastodon tokens).
_TOKEN_SHAPE = re.compile(r"(gh[pousr]_|github_pat_|glpat-|xox[abprs]-|sk-|AKIA[0-9A-Z]{12}|eyJ[\w-]{8,}\.)"
                          r"|[a-z0-9]{4}-[a-z0-9]{4}-[a-z0-9]{4}-[a-z0-9]{4}$")
_RANDOMISH = re.compile(r"[A-Za-z0-9_\-+=]{32,}")
_ENV_NAME = re.compile(r"[A-Z][A-Z0-9_]*")


def looks_like_secret(value: str) -> bool:
    v = value.strip()
    if _TOKEN_SHAPE.match(v):
        return True
    return (bool(_RANDOMISH.fullmatch(v)) and not _ENV_NAME.fullmatch(v)
            and any(c.isdigit() for c in v) and any(c.isalpha() for c in v))


def _string_paths(data: Any, keep: Callable[[str], bool], where: str = "") -> list[str]:
    """The dotted paths (never the values) of the strings in `data` for which `keep` holds."""
    if isinstance(data, dict):
        return [w for k, v in data.items() for w in _string_paths(v, keep, f"{where}.{k}" if where else str(k))]
    if isinstance(data, list):
        return [w for i, v in enumerate(data) for w in _string_paths(v, keep, f"{where}[{i}]")]
    if isinstance(data, str) and keep(data):
        return [where]
    return []


def _secret_warnings(data: Any) -> list[str]:
    """Every string in the file that looks like a credential, by its dotted path (never its value)."""
    return [f"{where} looks like a secret written into the config file; keep it in an environment "
            f"variable and name that variable (e.g. token_env = \"LISTEN_TOKEN\"), then revoke the exposed one"
            for where in _string_paths(data, looks_like_secret)]


# Query parameters that carry a credential in a URL (a private feed's ?token=..., a signed link).
_SECRET_PARAM = re.compile(r"(token|key|secret|password|passwd|pwd|sig|signature|credentials?)$"
                           r"|^(auth|pass|session|sessionid)$", re.I)


# Could a path segment be credential-shaped (_TOKEN_SHAPE at its start, or _RANDOMISH)? A cheap
# first look, so that a 2,000-feed file's plain URLs are not each taken apart.
_SHAPED_SEGMENT = re.compile(r"/(?:gh[pousr]_|github_pat_|glpat-|xox[abprs]-|sk-|AKIA|eyJ|[a-z0-9]{4}-[a-z0-9]{4}-)"
                             r"|[A-Za-z0-9_\-+=]{32}")


def url_secret(value: str) -> bool:
    """A URL that carries a credential: a password in it, a secret-named query parameter
    with a value, or a credential-shaped piece of path or query (`looks_like_secret`)."""
    if "://" not in value or not ("@" in value or "?" in value or _SHAPED_SEGMENT.search(value)):
        return False
    try:
        parts = urlsplit(value.strip())
        password = parts.password
    except ValueError:
        return False
    if not parts.scheme or not parts.netloc:
        return False
    if password:
        return True
    for name, v in parse_qsl(parts.query, keep_blank_values=False):
        if _SECRET_PARAM.search(name) or looks_like_secret(v):
            return True
    return any(looks_like_secret(seg) for seg in parts.path.split("/") if seg)


def _held_secrets(data: Any) -> list[str]:
    """Where the file itself holds a secret's value, by dotted path: a credential-shaped
    string, or a URL carrying one. A *_env key holds a variable's name, not a secret."""
    return _string_paths(data, lambda v: looks_like_secret(v) or url_secret(v))


def _mode_warnings(path: Path, data: dict[str, Any]) -> list[str]:
    """One warning when others can read a file that holds a secret. Naming environment
    variables is not holding secrets: `listen init` and config.example.toml do that."""
    try:
        mode = path.stat().st_mode & 0o777
    except OSError:
        return []
    held = _held_secrets(data) if mode & 0o077 else []  # the walk only for a file others can read
    if held:
        where = ", ".join(held[:3]) + (f" and {len(held) - 3} more" if len(held) > 3 else "")
        return [f"{path} can be read by other users (mode {mode:o}) and holds a secret ({where}); "
                f"run `chmod 600 {path}`"]
    return []


@dataclass
class Config:
    path: Path | None
    db_path: Path
    identity: tuple[str, ...] = ()
    db_url: str | None = None  # PostgreSQL instead of db_path
    db_password_env: str | None = None
    me: str | None = None  # [identity] me, else $LISTEN_USER
    max_age: int = DEFAULT_MAX_AGE
    reply_within: int = DEFAULT_REPLY_WITHIN
    stale_after: int = 3600
    feeds: list[FeedConfig] = field(default_factory=list)
    flags: FlagSettings = field(default_factory=FlagSettings)
    http_timeout: float = 20.0
    max_size: int = 20 * 1024 * 1024
    concurrency: int = 256
    warnings: list[str] = field(default_factory=list)  # shown on stderr by every command, --quiet or not
    # Each feed's kind and thresholds (listen/kinds.py), by feed name.
    feed_flags: dict[str, FeedFlags] = field(default_factory=dict)
    bots: tuple[str, ...] = ()  # [identity] bots: authors that are bots on every feed

    def flags_for(self, feed: str | None) -> FeedFlags:
        """A feed's flag settings; an unknown or absent feed gets [flags] as a mention stream."""
        got = self.feed_flags.get(feed or "")
        if got is not None:
            return got
        return FeedFlags("mentions", self.flags.question_threshold, self.flags.negative_threshold, self.bots)
    alerts: list[Any] = field(default_factory=list)  # listen.alerts.rules.AlertConfig, one per [[alerts]]

    def reply_target(self, feed: str) -> int:
        """The feed's reply_within, or [inbox] reply_within."""
        for f in self.feeds:
            if f.name == feed and f.reply_within is not None:
                return f.reply_within
        return self.reply_within

    def reply_targets(self) -> dict[str, int]:
        """Every configured feed's reply target."""
        return {f.name: self.reply_target(f.name) for f in self.feeds}

    def feed(self, name: str) -> FeedConfig:
        for f in self.feeds:
            if f.name == name:
                return f
        raise UsageError(unknown_feed(name, [f.name for f in self.feeds]))


def unknown_feed(name: str, names: list[str]) -> str:
    """A --feed that names no configured feed: a slip on the command line, not in the file."""
    shown = ", ".join(names[:12]) + (f" and {len(names) - 12} more (listen feeds)" if len(names) > 12 else "")
    known = f"configured feeds: {shown}" if names else "no feeds are configured"
    return f"no feed named {name!r}{_suggest(name, names)}; {known}"


def user_config_path() -> Path:
    from platformdirs import user_config_dir

    return Path(user_config_dir("listen")) / "listen.toml"


def find_config(explicit: str | os.PathLike[str] | None) -> Path | None:
    """--config, then $LISTEN_CONFIG, then ./listen.toml, then the user's config folder."""
    if explicit:
        return Path(explicit)
    if os.environ.get(CONFIG_ENV):
        return Path(os.environ[CONFIG_ENV])
    for candidate in (Path("listen.toml"), user_config_path()):
        if candidate.is_file():
            return candidate
    return None


def parse_size(text: str) -> int:
    m = re.fullmatch(r"\s*(\d+(?:\.\d+)?)\s*(b|kb|mb|gb|kib|mib|gib)?\s*", str(text), re.I)
    if not m:
        raise ValueError(f"{text!r} is not a size; write it like 500KB or 20MB")
    unit = (m.group(2) or "b").lower().replace("i", "")
    return int(float(m.group(1)) * {"b": 1, "kb": 1024, "mb": 1024**2, "gb": 1024**3}[unit])


def _suggest(word: str, choices: list[str]) -> str:
    close = difflib.get_close_matches(word, choices, n=1, cutoff=0.6)
    return f" (did you mean {close[0]!r}?)" if close else ""


def _coerce(where: str, key: str, value: Any, opt: Option, problems: list[str]) -> Any:
    if opt.kind is list:
        if isinstance(value, str):
            value = [value]
        if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
            problems.append(f"{where}.{key}: expected a list of strings, got {value!r}")
            return None
        return value
    if opt.kind is float and isinstance(value, int) and not isinstance(value, bool):
        value = float(value)
    if opt.kind is str and isinstance(value, (int, float)) and opt.duration and not isinstance(value, bool):
        value = f"{value}s"
    if not isinstance(value, opt.kind) or (opt.kind is int and isinstance(value, bool)):
        problems.append(f"{where}.{key}: expected {opt.kind.__name__}, got {type(value).__name__} {value!r}")
        return None
    if opt.minimum is not None and isinstance(value, (int, float)) and value < opt.minimum:
        problems.append(f"{where}.{key}: must be {opt.minimum:g} or more, got {value!r}")
        return None
    if opt.duration:
        try:
            return parse_duration(str(value))
        except ValueError as e:
            problems.append(f"{where}.{key}: {e}")
            return None
    return value


def _section(where: str, table: Any, spec: dict[str, Option], problems: list[str]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    if not isinstance(table, dict):
        problems.append(f"{where}: expected a table")
        table = {}
    for key, value in table.items():
        if key not in spec:
            hint = _suggest(key, list(spec))
            if not hint and _SECRETISH.search(key) and f"{key}_env" in spec:
                hint = f" (secrets never sit in the file: set {key}_env to the name of an environment variable)"
            problems.append(f"{where}: unknown key {key!r}{hint}")
            continue
        out[key] = _coerce(where, key, value, spec[key], problems)
        if key.endswith("_env") and isinstance(value, str) and looks_like_secret(value):
            # Never looked up, so never echoed back in "variable ... is not set".
            problems.append(f"{where}.{key}: expected the name of an environment variable, but this looks like "
                            "the secret itself; put the secret in the environment and write the variable's name here")
    for key, opt in spec.items():
        if key not in out:
            if opt.required:
                problems.append(f"{where}: missing required key {key!r} ({opt.help})")
            out[key] = _coerce(where, key, opt.default, opt, []) if opt.default is not None else None
    return out


def is_db_url(target: str) -> bool:
    return target.startswith(("postgresql://", "postgres://"))


def _me(configured: str | None) -> str | None:
    return (os.environ.get("LISTEN_USER") or configured or "").strip() or None


def load(path: Path | None, db_override: str | None = None) -> Config:
    """Read and validate the config. Every problem is listed, each by its dotted path."""
    db_override = db_override or os.environ.get(DB_ENV)
    if path is None:
        if db_override:
            if is_db_url(db_override):
                return Config(path=None, db_path=Path("listen.db"), db_url=db_override, me=_me(None))
            return Config(path=None, db_path=Path(db_override), me=_me(None))
        raise ConfigError(
            "listen.toml",
            ["no config file found (looked at --config, $LISTEN_CONFIG, ./listen.toml, "
             f"{user_config_path()}); run `listen init` to write one"],
        )
    try:
        data = tomllib.loads(Path(path).read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ConfigError(str(path), ["file not found; run `listen init` to write one"]) from None
    except (OSError, UnicodeDecodeError) as e:
        raise ConfigError(str(path), [f"cannot read: {e}"]) from None
    except tomllib.TOMLDecodeError as e:
        raise ConfigError(str(path), [f"not valid TOML: {e}"]) from None
    config = parse(data, Path(path), db_override)
    config.warnings += _mode_warnings(Path(path), data)
    return config


def parse(data: dict[str, Any], path: Path, db_override: str | None = None) -> Config:
    problems: list[str] = []
    base = path.parent.resolve()
    known = [*SECTIONS, "feeds", "alerts"]
    for key in data:
        if key not in known:
            problems.append(f"unknown section [{key}]{_suggest(key, known)}")
    s = {name: _section(name, data.get(name, {}), spec, problems) for name, spec in SECTIONS.items()}

    identity = tuple(n for n in (s["identity"]["names"] or []) if n.strip())
    feeds: list[FeedConfig] = []
    raw_feeds = data.get("feeds", [])
    if not isinstance(raw_feeds, list):
        problems.append("feeds: write each feed as a [[feeds]] table")
        raw_feeds = []
    seen: set[str] = set()
    for i, raw in enumerate(raw_feeds):
        feed = _feed(i, raw, base, identity, problems)
        if feed is None:
            continue
        if feed.name in seen:
            problems.append(f"feeds[{i}] ({feed.name}): the name {feed.name!r} is used twice; names must be unique")
        seen.add(feed.name)
        feeds.append(feed)

    alerts = parse_alerts(data.get("alerts"), [f.name for f in feeds], base, problems)

    try:
        max_size = parse_size(s["http"]["max_size"] or "20MB")
    except ValueError as e:
        problems.append(f"http.max_size: {e}")
        max_size = 0
    fl = s["flags"]
    for key in ("question_threshold", "negative_threshold"):
        if fl[key] is not None and not 0 <= fl[key] <= 1:
            problems.append(f"flags.{key}: expected a number from 0 to 1, got {fl[key]}")
    given = data.get("flags")
    written: dict[str, Any] = given if isinstance(given, dict) else {}
    bots = tuple(b for b in (s["identity"]["bots"] or []) if b.strip())
    # Where each feed stands in the file, for error messages: one pass, not one per feed
    # (an agency's 2,000 feeds made this quadratic: 0.9 s of every command).
    position: dict[str, int] = {}
    for j, r in enumerate(raw_feeds):
        if isinstance(r, dict) and isinstance(r.get("name"), str):
            position.setdefault(r["name"], j)
    profiles = {f.name: _feed_flags(position.get(f.name, i), f, raw_feeds, written, bots, problems)
                for i, f in enumerate(feeds)}
    warnings = _secret_warnings(data)
    if problems:
        raise ConfigError(str(path), problems + warnings)

    url = db_override if db_override and is_db_url(db_override) else None
    if not db_override and s["store"]["url"]:
        if not is_db_url(s["store"]["url"]):
            raise ConfigError(str(path), ["store.url: expected a postgresql:// URL"])
        if urlsplit(s["store"]["url"]).password is not None:
            raise ConfigError(str(path), ["store.url: the password must not be written in the file; set PGPASSWORD "
                                          "or name a variable with store.password_env"])
        url = s["store"]["url"]
    store = s["store"]["path"] if url or not db_override else db_override
    return Config(
        path=path,
        db_path=Path(db_override) if db_override and not url else (base / os.path.expanduser(store)),
        db_url=url,
        db_password_env=s["store"]["password_env"],
        me=_me(s["identity"]["me"]),
        identity=identity,
        max_age=s["inbox"]["max_age"],
        reply_within=s["inbox"]["reply_within"],
        stale_after=s["inbox"]["stale_after"],
        feeds=feeds,
        flags=FlagSettings(
            question_threshold=fl["question_threshold"],
            negative_threshold=fl["negative_threshold"],
            never_negative=tuple(fl["never_negative"]),
            always_negative=tuple(fl["always_negative"]),
            never_question=tuple(fl["never_question"]),
            always_question=tuple(fl["always_question"]),
            # A question that names us is addressed to us (flags/__init__.classify).
            our_names=identity,
        ),
        http_timeout=float(s["http"]["timeout"]),
        max_size=max_size,
        concurrency=max(1, s["http"]["concurrency"]),
        warnings=warnings,
        feed_flags=profiles,
        bots=bots,
        alerts=alerts,
    )


def _feed_flags(at: int, feed: FeedConfig, raw_feeds: list[Any], written: dict[str, Any], bots: tuple[str, ...],
                problems: list[str]) -> FeedFlags:
    """A feed's kind and thresholds: its own keys, then [flags] as written, then the kind's defaults.
    `at` is the feed's place in the file's [[feeds]] list."""
    raw = raw_feeds[at] if at < len(raw_feeds) and isinstance(raw_feeds[at], dict) else {}
    where = f"feeds[{at}] ({feed.name})"
    kind = raw.get("kind")
    if kind is not None and kind not in KINDS:
        problems.append(f"{where}.kind: {kind!r}{_suggest(str(kind), list(KINDS))}; expected one of: {', '.join(KINDS)}")
        kind = None
    values: dict[str, float | None] = {}
    for key in ("question_threshold", "negative_threshold"):
        v = raw.get(key)
        if isinstance(v, (int, float)) and not isinstance(v, bool):
            if not 0 <= v <= 1:
                problems.append(f"{where}.{key}: expected a number from 0 to 1, got {v}")
                v = None
            values[key] = None if v is None else float(v)
        else:
            values[key] = None  # a wrong type is reported by _section
        g = written.get(key)
        values["global_" + key] = float(g) if isinstance(g, (int, float)) and not isinstance(g, bool) else None
    own = raw.get("bots")
    own_bots = tuple(b for b in own if isinstance(b, str) and b.strip()) if isinstance(own, list) else \
        ((own,) if isinstance(own, str) else ())
    return feed_flags(feed.type, kind, values["question_threshold"], values["negative_threshold"],
                      values["global_question_threshold"], values["global_negative_threshold"], bots + own_bots)


def _not_web_address(value: str) -> str | None:
    """Why a feed's address cannot be fetched (None when it can): found at load, not at the
    first pull. Says the scheme, never the whole value (it may carry a token)."""
    try:
        parts = urlsplit(value.strip())
        host = parts.hostname
    except ValueError:
        return "not a valid URL"
    scheme = parts.scheme.lower()
    if scheme in ("http", "https"):
        return None if host else "the URL names no host"
    if not scheme or "." in scheme or re.match(r"\d", value.strip()[len(scheme) + 1:]):
        # "mastodon.social", "localhost:8080/feed": a host without its scheme
        return "expected an http:// or https:// URL; add the scheme, e.g. https://"
    return f"expected an http:// or https:// URL, not {scheme}:{'//' if '://' in value else ''}"


def _feed(i: int, raw: Any, base: Path, identity: tuple[str, ...], problems: list[str]) -> FeedConfig | None:
    if not isinstance(raw, dict):
        problems.append(f"feeds[{i}]: expected a table")
        return None
    name = raw.get("name")
    where = f"feeds[{i}] ({name})" if isinstance(name, str) else f"feeds[{i}]"
    type_name = raw.get("type")
    if type_name not in REGISTRY:
        got = "missing" if type_name is None else repr(type_name)
        hint = _suggest(str(type_name), list(REGISTRY)) if type_name else ""
        problems.append(f"{where}.type: {got}{hint}; expected one of: {', '.join(REGISTRY)}")
        return None
    cls = source_class(type_name)
    spec = {**COMMON_FEED_KEYS, **cls.options}
    before = len(problems)
    values = _section(where, raw, spec, problems)
    options = {k: v for k, v in values.items() if k not in COMMON_FEED_KEYS}
    for key, value in options.items():
        if key in raw and (key in ("url", "instance") or key.endswith("_url")) and isinstance(value, str):
            bad = _not_web_address(value)
            if bad:
                problems.append(f"{where}.{key}: {bad}")
    for problem in cls.check(options):
        problems.append(f"{where}: {problem}")
    if len(problems) > before:
        return None
    return FeedConfig(
        name=values["name"],
        type=type_name,
        options=options,
        config_dir=base,
        timeout=float(values["timeout"]),
        enabled=values["enabled"],
        identity=identity,
        reply_within=None if values["reply_within"] is None else int(values["reply_within"]),
    )


# -- [[alerts]] (listen/alerts, docs/alerts.md) ----------------------------------

ALERT_KEYS: dict[str, Option] = {
    "name": Option(str, "unique name, used in output and in the record of what was sent", required=True),
    "type": Option(str, "webhook, slack, mattermost, discord, ntfy, email or command", required=True),
    "when": Option(list, "which waiting items: negative, question", default=["negative", "question"]),
    "after": Option(str, "once they have waited this long, or \"target\" (past reply_within)", default="0s"),
    "feeds": Option(list, "only these feeds", default=[]),
    "digest": Option(str, "one message a day at this local time (HH:MM) listing everyone waiting"),
    "timezone": Option(str, "for digest and quiet (an IANA name, e.g. Europe/Paris)", default="UTC"),
    "quiet": Option(str, "no immediate alerts in these local hours, e.g. 22:00-07:00"),
    "timeout": Option(str, "give up on the target after this long", default="10s", duration=True),
    "enabled": Option(bool, "set to false to keep the entry but send nothing", default=True),
    "url_env": Option(str, "the environment variable holding the webhook URL"),
    "priority": Option(str, "ntfy priority for immediate alerts with a negative remark", default="high"),
    "to": Option(list, "email: recipients"),
    "from": Option(str, "email: the sender address"),
    "smtp_host": Option(str, "email: the SMTP server"),
    "smtp_port": Option(int, "email: 587 (STARTTLS), 465 (SSL) or 25", minimum=1),
    "username_env": Option(str, "email: the environment variable holding the SMTP user name"),
    "password_env": Option(str, "email: the environment variable holding the SMTP password"),
    "starttls": Option(bool, "email: upgrade the connection with STARTTLS (the default)", default=True),
    "ssl": Option(bool, "email: TLS from the first byte (port 465)", default=False),
    "cafile": Option(str, "email: a CA bundle to trust (a private mail server), relative to this file"),
    "command": Option(list, "command: the program and its arguments; the items arrive as JSON on stdin"),
}

_EMAIL_KEYS = ("to", "from", "smtp_host", "smtp_port", "username_env", "password_env", "starttls", "ssl", "cafile")
_ADDRESS = re.compile(r"[^@\s<>,;\"]+@[^@\s<>,;\"]+")


def parse_alerts(raw: Any, feed_names: list[str], base: Path, problems: list[str]) -> list[Any]:
    """Every [[alerts]] entry as an AlertConfig; problems by dotted path (alerts[i] (name).key)."""
    from listen.alerts.rules import FLAGS, MAX_TIMEOUT, TARGET, TYPES, URL_TYPES, AlertConfig, parse_clock, parse_quiet

    if raw is None:
        return []
    if not isinstance(raw, list):
        problems.append("alerts: write each alert as an [[alerts]] table")
        return []
    out: list[AlertConfig] = []
    seen: set[str] = set()
    for i, entry in enumerate(raw):
        if not isinstance(entry, dict):
            problems.append(f"alerts[{i}]: expected a table")
            continue
        name = entry.get("name")
        where = f"alerts[{i}] ({name})" if isinstance(name, str) else f"alerts[{i}]"
        before = len(problems)
        v = _section(where, entry, ALERT_KEYS, problems)
        kind = v["type"]
        if kind is not None and kind not in TYPES:
            problems.append(f"{where}.type: {kind!r}{_suggest(str(kind), list(TYPES))}; expected one of: "
                            + ", ".join(TYPES))
        if isinstance(name, str):
            if name in seen:
                problems.append(f"{where}: the name {name!r} is used twice; names must be unique")
            seen.add(name)
        for flag in v["when"] or []:
            if flag not in FLAGS:
                problems.append(f"{where}.when: {flag!r} is not a flag; use negative and/or question")
        if v["when"] == []:
            problems.append(f"{where}.when: empty; list negative and/or question")
        for feed in v["feeds"] or []:
            if feed not in feed_names:
                problems.append(f"{where}.feeds: no feed named {feed!r}{_suggest(feed, feed_names)}")
        after: int | None = 0
        if v["after"] == TARGET:
            after = None
        elif v["after"] is not None:
            try:
                after = parse_duration(v["after"])
            except ValueError as e:
                problems.append(f"{where}.after: {e}, or \"target\"")
        digest = quiet = None
        if v["digest"] is not None:
            try:
                digest = parse_clock(v["digest"])
            except ValueError as e:
                problems.append(f"{where}.digest: {e}")
        if v["quiet"] is not None:
            try:
                quiet = parse_quiet(v["quiet"])
            except ValueError as e:
                problems.append(f"{where}.quiet: {e}")
        if v["timezone"] is not None:
            try:
                from zoneinfo import ZoneInfo

                ZoneInfo(v["timezone"])
            except (ValueError, KeyError, OSError):
                problems.append(f"{where}.timezone: {v['timezone']!r} is not a time zone; use an IANA name "
                                "like Europe/Paris or UTC")
        if v["timeout"] is not None and not 0 < v["timeout"] <= MAX_TIMEOUT:
            problems.append(f"{where}.timeout: must be more than 0s and at most {MAX_TIMEOUT}s")
        if kind in URL_TYPES and not v["url_env"]:
            problems.append(f"{where}: missing required key 'url_env' (the environment variable holding the URL;"
                            " the URL is a secret and never sits in this file)")
        if kind != "email":
            for key in _EMAIL_KEYS:
                if key in entry:
                    problems.append(f"{where}.{key}: only for type = \"email\"")
        else:
            for key in ("to", "from", "smtp_host"):
                if not v[key]:
                    problems.append(f"{where}: missing required key {key!r} ({ALERT_KEYS[key].help})")
            for addr in [*(v["to"] or []), *([v["from"]] if v["from"] else [])]:
                if not _ADDRESS.search(addr) or any(c in addr for c in "\r\n"):
                    problems.append(f"{where}: {addr!r} is not a mail address")
            if v["ssl"] and entry.get("starttls") is True:
                problems.append(f"{where}: choose ssl or starttls, not both")
            if bool(v["username_env"]) != bool(v["password_env"]):
                problems.append(f"{where}: username_env and password_env go together")
        if kind == "command" and not v["command"]:
            problems.append(f"{where}: missing required key 'command' (the program and its arguments, as a list)")
        if kind != "command" and "command" in entry:
            problems.append(f"{where}.command: only for type = \"command\"")
        if len(problems) > before or not v["enabled"]:
            continue
        email: dict[str, Any] = {}
        if kind == "email":
            ssl = bool(v["ssl"])
            email = {"to": tuple(v["to"]), "from": v["from"], "smtp_host": v["smtp_host"],
                     "smtp_port": v["smtp_port"] or (465 if ssl else 587), "username_env": v["username_env"],
                     "password_env": v["password_env"], "ssl": ssl, "starttls": bool(v["starttls"]) and not ssl,
                     "cafile": str((base / os.path.expanduser(v["cafile"])).resolve()) if v["cafile"] else None}
        out.append(AlertConfig(
            name=v["name"], type=kind, when=tuple(v["when"]), after=after, feeds=tuple(v["feeds"] or ()),
            digest=digest, timezone=v["timezone"], quiet=quiet, timeout=int(v["timeout"]), url_env=v["url_env"],
            priority=v["priority"], email=email, command=tuple(v["command"] or ()), config_dir=str(base)))
    return out
