"""Diagnostics: stdlib `logging` under the "listen." names, with secrets redacted at the source.

Every logger listen writes to is made by `get()`, which attaches one shared
`RedactSecrets` filter to it: a record is redacted when it is made, before any
handler sees it, so a library user who routes "listen" to their own handlers
never receives a token either. The CLI installs a stderr handler (`configure`):
warnings by default, each request with `-v`, tracebacks of unexpected errors
with `--debug`.
"""

from __future__ import annotations

import logging
import os
import re
import sys
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any, TextIO
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

ROOT = "listen"
REDACTED = "[redacted]"

# Query parameters whose values are credentials on some API or other.
_SECRET_PARAM = re.compile(r"(?i)(token|key|secret|password|passwd|auth|sig|signature|session|code|credential)")
# Credentials that can travel inside a message (an exception quoting a request, a server's echo).
_AUTH_PATTERNS = [
    (re.compile(r"(?i)\b(bearer|basic|token)(\s+)[A-Za-z0-9._~+/=:-]{6,}"), r"\1\2" + REDACTED),
    (re.compile(r"(?i)(authorization[\"']?\s*[:=]\s*[\"']?)(?!\s*(?:bearer|basic|token)\s)[^\s\"',}]+"),
     r"\1" + REDACTED),
]


def secret_forms(value: str) -> set[str]:
    """The ways a secret can be quoted back: as it is, percent-encoded, and for a URL
    (a webhook's, whose token is its path) its path and query without the host, as a
    server or a library quotes a request, and its user:password@host."""
    from urllib.parse import quote

    forms = {value, value.strip(), quote(value, safe=""), quote(value, safe="/:")}
    try:
        parts = urlsplit(value.strip())
        if parts.scheme and parts.netloc:
            forms |= {parts.path, parts.path + ("?" + parts.query if parts.query else "")}
            forms |= {parts.netloc} if "@" in parts.netloc else set()
    except ValueError:
        pass
    # A JSON body escapes slashes ("https:\/\/hooks..."), as PHP's json_encode does by
    # default; a percent-encoder may write its hex digits in lower case ("%2f").
    forms |= {f.replace("/", "\\/") for f in forms if "/" in f}
    forms |= {re.sub(r"%[0-9A-F]{2}", lambda m: m.group(0).lower(), f) for f in forms if "%" in f}
    return {f for f in forms if f}


class RedactSecrets(logging.Filter):
    """Replaces known secret values (the environment variables the config names in its
    *_env keys) and anything shaped like an Authorization header, in the message, its
    arguments and its traceback. Never drops a record."""

    def __init__(self) -> None:
        super().__init__()
        self.secrets: dict[str, str] = {}  # value -> variable name

    def watch(self, env_names: Iterable[str]) -> None:
        for var in env_names:
            value = os.environ.get(var) or ""
            for form in {value, value.strip()}:
                if len(form) >= 4:  # shorter would redact ordinary words
                    self.secrets[form] = var
            for form in secret_forms(value) - {value, value.strip()}:
                if len(form) >= 6:  # a piece of a URL: a path as short as "/api" is no secret
                    self.secrets.setdefault(form, var)

    def redact(self, text: str) -> str:
        for value in sorted(self.secrets, key=len, reverse=True):
            if value in text:
                text = text.replace(value, f"${self.secrets[value]}")
        for pattern, repl in _AUTH_PATTERNS:
            text = pattern.sub(repl, text)
        return text

    def filter(self, record: logging.LogRecord) -> bool:
        try:
            message = record.getMessage()
        except Exception:  # a bad format string must not lose the record (logging would print it raw)
            message = f"{record.msg!r} % {record.args!r}"
        record.msg, record.args = self.redact(message), None
        if record.exc_info and not record.exc_text:
            # Formatted here, not by the handler, so the traceback's messages are redacted too.
            # Tracebacks carry no local variables: only the exception's own text can hold a secret.
            record.exc_text = self.redact(logging.Formatter().formatException(record.exc_info))
        if record.exc_text:
            record.exc_text = self.redact(record.exc_text)
        if record.stack_info:
            record.stack_info = self.redact(record.stack_info)
        return True


REDACT = RedactSecrets()


def get(name: str) -> logging.Logger:
    """The logger "listen.<name>", with the redacting filter on it."""
    logger = logging.getLogger(f"{ROOT}.{name}" if name != ROOT else ROOT)
    if REDACT not in logger.filters:
        logger.addFilter(REDACT)
    return logger


def env_names(data: Any) -> set[str]:
    """Every value of a key ending in `_env`, anywhere in a parsed config."""
    found: set[str] = set()
    if isinstance(data, Mapping):
        for key, value in data.items():
            if isinstance(key, str) and key.endswith("_env") and isinstance(value, str) and value:
                found.add(value)
            else:
                found |= env_names(value)
    elif isinstance(data, list):
        for value in data:
            found |= env_names(value)
    return found


def watch_config(config: Any) -> None:
    """Redact every secret the config names: the feeds' *_env keys, and those of any other
    section (alerts, store), read again from the file so that no section is missed."""
    names: set[str] = set()
    for feed in getattr(config, "feeds", []) or []:
        names |= env_names(getattr(feed, "options", {}))
    path = getattr(config, "path", None)
    if path is not None:
        import tomllib

        try:
            names |= env_names(tomllib.loads(Path(path).read_text(encoding="utf-8")))
        except (OSError, ValueError):  # load() has already reported an unreadable file
            pass
    REDACT.watch(names)


def redact_url(url: str) -> str:
    """A URL fit for a log line: no user or password, and the values of credential-like
    query parameters replaced; the other parameters stay, since they explain a request."""
    parts = urlsplit(str(url))
    host = parts.hostname or ""
    if parts.port:
        host = f"{host}:{parts.port}"
    query = [(k, REDACTED if _SECRET_PARAM.search(k) else v) for k, v in parse_qsl(parts.query, keep_blank_values=True)]
    return urlunsplit((parts.scheme, host, parts.path, urlencode(query, safe="[]:,/"), ""))


class _Stderr(logging.StreamHandler[TextIO]):
    """The handler `configure` installs, told apart from a library user's own."""


def configure(verbose: bool = False, debug: bool = False, stream: Any = None) -> logging.Handler | None:
    """The CLI's logging: to stderr, warnings by default, INFO with -v, DEBUG with --debug.

    A library user configures logging their own way and never calls this.
    """
    root = get(ROOT)
    for h in list(root.handlers):
        if isinstance(h, _Stderr):
            root.removeHandler(h)
    level = logging.DEBUG if debug else logging.INFO if verbose else logging.WARNING
    handler = _Stderr(stream or sys.stderr)
    fmt = "listen: %(levelname)s %(name)s: %(message)s" if debug else "listen: %(message)s"
    handler.setFormatter(logging.Formatter(fmt))
    handler.addFilter(REDACT)
    root.addHandler(handler)
    root.setLevel(level)
    root.propagate = False  # our handler prints it; the root logger's would print it twice
    return handler
