"""Transports: an HTTP POST (webhook, slack, mattermost, discord, ntfy), SMTP mail, a local command.

Each `deliver` either returns (the target accepted the message) or raises
AlertError with words safe to print and store: the values of the target's
secrets (the webhook URL, the SMTP user and password) are replaced by the
names of their variables, because httpx, smtplib and servers quote them.
"""

from __future__ import annotations

import os
import smtplib
import ssl
import subprocess
from typing import Any

from listen.alerts.formats import Message, command_input, email_message, payload
from listen.alerts.rules import URL_TYPES, AlertConfig
from listen.errors import ListenError
from listen.text import inert


class AlertError(ListenError):
    """One alert target could not be reached or refused the message."""

    def __init__(self, alert: str, message: str):
        self.alert = alert
        self.message = message
        super().__init__(f"alert {alert}: {message}")


def secrets(alert: AlertConfig) -> dict[str, str]:
    """{variable name: value} of every secret this target names (set ones only)."""
    names = [alert.url_env, alert.email.get("username_env"), alert.email.get("password_env")]
    return {n: os.environ[n] for n in names if n and os.environ.get(n)}


def redact(text: str, alert: AlertConfig) -> str:
    """`text` fit to print and store: every secret listen knows replaced by its variable's
    name (log.REDACT: this target's, every other target's and feed's, see watch_config),
    as a server may quote any of them (a relay's error page quoting another hook's URL)."""
    from listen import log

    log.REDACT.watch(secrets(alert))  # known already when the config was loaded; a library caller's too
    return inert(log.REDACT.redact(text), limit=300, one_line=True)


def _env(alert: AlertConfig, key: str, required: bool = True) -> str | None:
    var = alert.url_env if key == "url_env" else alert.email.get(key)
    if not var:
        return None
    value = (os.environ.get(var) or "").strip()
    if not value and required:
        raise AlertError(alert.name, f"environment variable {var} (named by {key}) is not set")
    return value or None


class Sender:
    """One run's transports: a single HTTP client for every webhook-like target (made on first use)."""

    def __init__(self) -> None:
        self._http: Any = None

    def __call__(self, alert: AlertConfig, msg: Message) -> None:
        if alert.type in URL_TYPES and self._http is None:
            import httpx

            # No redirects: a webhook that moved is a failure to fix, not a place to post secrets to.
            self._http = httpx.Client(follow_redirects=False, headers={"User-Agent": "listen (alerts)"})
        deliver(alert, msg, self._http)

    def close(self) -> None:
        if self._http is not None:
            self._http.close()
            self._http = None


def deliver(alert: AlertConfig, msg: Message, http: Any = None) -> None:
    """Send `msg` to the target. Raises AlertError (secrets removed) when it is not accepted."""
    try:
        if alert.type in URL_TYPES:
            _post(alert, msg, http)
        elif alert.type == "email":
            _mail(alert, msg)
        elif alert.type == "command":
            _run(alert, msg)
        else:
            raise AlertError(alert.name, f"unknown type {alert.type!r}")
    except AlertError as e:
        raise AlertError(alert.name, redact(e.message, alert)) from None
    except Exception as e:  # whatever the transport raised: in words, secrets removed, never a traceback
        raise AlertError(alert.name, redact(_describe(e), alert)) from None


def _describe(e: BaseException) -> str:
    import httpx

    if isinstance(e, httpx.TimeoutException) or isinstance(e, TimeoutError):
        return "timed out"
    if isinstance(e, httpx.ConnectError):
        return f"cannot connect: {e}"
    if isinstance(e, smtplib.SMTPAuthenticationError):
        return f"the mail server refused the login ({e.smtp_code})"
    if isinstance(e, smtplib.SMTPResponseException):
        said = e.smtp_error.decode("utf-8", "replace") if isinstance(e.smtp_error, bytes) else str(e.smtp_error)
        return f"the mail server said {e.smtp_code}: {said}"
    if isinstance(e, smtplib.SMTPRecipientsRefused):
        return "the mail server refused every recipient"
    if isinstance(e, ssl.SSLError):
        return f"TLS failed: {e.reason or e}"
    if isinstance(e, OSError):
        return f"{e.strerror or e}"
    return f"{type(e).__name__}: {e}"


def _post(alert: AlertConfig, msg: Message, http: Any) -> None:
    import httpx

    url = _env(alert, "url_env") or ""  # required: _env raised if unset
    p = payload(alert.type, msg, alert.priority)
    own = http is None
    client = http or httpx.Client(timeout=alert.timeout, follow_redirects=False,
                                  headers={"User-Agent": "listen (alerts)"})
    try:
        r = client.post(url, content=p.body, headers=p.headers, timeout=alert.timeout)
    finally:
        if own:
            client.close()
    if r.status_code >= 300:
        # The body may quote the request (the URL): only its first line, redacted by deliver().
        # Cut after redaction (deliver), not here: a cut through a secret would leave its start.
        said = r.text.strip().splitlines()[0][:10000] if r.text.strip() else ""
        raise AlertError(alert.name, f"HTTP {r.status_code}" + (f": {said}" if said else ""))


def _mail(alert: AlertConfig, msg: Message) -> None:
    e = alert.email
    host, port = e["smtp_host"], int(e["smtp_port"])
    context = ssl.create_default_context(cafile=e.get("cafile"))
    user = _env(alert, "username_env")
    password = _env(alert, "password_env")
    mail = email_message(alert, msg)
    smtp: smtplib.SMTP
    if e.get("ssl"):
        smtp = smtplib.SMTP_SSL(host, port, timeout=alert.timeout, context=context)
    else:
        smtp = smtplib.SMTP(host, port, timeout=alert.timeout)
    with smtp:
        smtp.ehlo()
        if e.get("starttls") and not e.get("ssl"):
            smtp.starttls(context=context)
            smtp.ehlo()
        if user and password:
            smtp.login(user, password)
        refused = smtp.send_message(mail)
        if refused:
            raise AlertError(alert.name, f"the mail server refused {len(refused)} of the recipients")


def _run(alert: AlertConfig, msg: Message) -> None:
    try:
        done = subprocess.run(list(alert.command), input=command_input(msg), capture_output=True,
                              timeout=alert.timeout, cwd=alert.config_dir, check=False)
    except subprocess.TimeoutExpired:
        raise AlertError(alert.name, f"{alert.command[0]} did not finish within {alert.timeout}s") from None
    except FileNotFoundError:
        raise AlertError(alert.name, f"no program {alert.command[0]!r} to run") from None
    if done.returncode != 0:
        said = done.stderr.decode("utf-8", "replace").strip().splitlines()
        raise AlertError(alert.name, f"{alert.command[0]} exited {done.returncode}"
                         + (f": {said[-1][:200]}" if said else ""))
