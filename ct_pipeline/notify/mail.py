"""Send a failure summary by e-mail (stdlib smtplib), and keep it as a file in the reports folder.

SMTP settings come from the environment:

CT_SMTP_HOST      the server; unset: no e-mail is sent (and `send_email` says so)
CT_SMTP_PORT      default 25 (465 means implicit TLS)
CT_SMTP_FROM      sender address                       (default ct-pipeline@localhost)
CT_SMTP_TO        recipients, comma-separated          (required when CT_SMTP_HOST is set)
CT_SMTP_USER      optional login
CT_SMTP_PASSWORD  optional password (only with CT_SMTP_USER)
CT_SMTP_STARTTLS  1/true/yes: upgrade the connection with STARTTLS before logging in
CT_SMTP_TIMEOUT   seconds, default 30
"""

from __future__ import annotations

import datetime as dt
import hashlib
import logging
import os
import smtplib
import ssl
from collections.abc import Mapping
from dataclasses import dataclass, field
from email.message import EmailMessage
from email.utils import formatdate, make_msgid
from pathlib import Path

from ct_pipeline.notify.sanitize import exception_class, sanitize_message

log = logging.getLogger(__name__)

_TRUE = {"1", "true", "yes", "on"}


@dataclass(frozen=True)
class SmtpSettings:
    host: str | None
    port: int = 25
    sender: str = "ct-pipeline@localhost"
    recipients: tuple[str, ...] = ()
    user: str | None = None
    password: str | None = field(default=None, repr=False)
    starttls: bool = False
    timeout: float = 30.0

    @property
    def configured(self) -> bool:
        return bool(self.host)

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> SmtpSettings:
        env = os.environ if environ is None else environ
        host = (env.get("CT_SMTP_HOST") or "").strip() or None
        port = int(env.get("CT_SMTP_PORT") or 25)
        to = tuple(a.strip() for a in (env.get("CT_SMTP_TO") or "").split(",") if a.strip())
        return cls(
            host=host,
            port=port,
            sender=(env.get("CT_SMTP_FROM") or "ct-pipeline@localhost").strip(),
            recipients=to,
            user=(env.get("CT_SMTP_USER") or "").strip() or None,
            password=env.get("CT_SMTP_PASSWORD") or None,
            starttls=(env.get("CT_SMTP_STARTTLS") or "").strip().lower() in _TRUE,
            timeout=float(env.get("CT_SMTP_TIMEOUT") or 30),
        )


@dataclass(frozen=True)
class EmailOutcome:
    sent: bool
    detail: str
    recipients: tuple[str, ...] = ()


def send_email(summary: str, subject: str, settings: SmtpSettings | None = None) -> EmailOutcome:
    """Send `summary` as a plain-text e-mail. Never raises: a failure to notify must not hide the
    failure being notified; the outcome says what happened (and it is logged)."""
    settings = settings or SmtpSettings.from_env()
    if not settings.configured:
        detail = "E-mail not sent: CT_SMTP_HOST is not set (the summary is only written to the reports folder)."
        log.info(detail)
        return EmailOutcome(False, detail)
    if not settings.recipients:
        detail = "E-mail not sent: CT_SMTP_HOST is set but CT_SMTP_TO names no recipient."
        log.warning(detail)
        return EmailOutcome(False, detail)

    msg = EmailMessage()
    msg["Subject"] = " ".join(subject.split())[:200]
    msg["From"] = settings.sender
    msg["To"] = ", ".join(settings.recipients)
    msg["Date"] = formatdate(localtime=False)
    msg["Message-ID"] = make_msgid(domain="ct-pipeline.local")
    msg.set_content(summary, subtype="plain", charset="utf-8")

    try:
        if settings.port == 465:
            smtp: smtplib.SMTP = smtplib.SMTP_SSL(settings.host, settings.port, timeout=settings.timeout,
                                                  context=ssl.create_default_context())
        else:
            smtp = smtplib.SMTP(settings.host, settings.port, timeout=settings.timeout)
        with smtp:
            smtp.ehlo()
            if settings.starttls and settings.port != 465:
                smtp.starttls(context=ssl.create_default_context())
                smtp.ehlo()
            if settings.user:
                smtp.login(settings.user, settings.password or "")
            refused = smtp.send_message(msg)
    except (OSError, smtplib.SMTPException) as exc:
        detail = (f"E-mail not sent to {settings.host}:{settings.port}: {exception_class(exc)}: "
                  f"{sanitize_message(str(exc), roots=[])}")
        log.warning(detail)
        return EmailOutcome(False, detail)
    ok = tuple(r for r in settings.recipients if r not in refused)
    detail = f"E-mail sent to {len(ok)} recipient(s) via {settings.host}:{settings.port}."
    if refused:
        detail += f" {len(refused)} recipient(s) refused by the server."
    log.info(detail)
    return EmailOutcome(bool(ok), detail, ok)


def write_summary(summary: str, folder: Path | str, *, name: str | None = None) -> Path:
    """Write the summary to `folder` (created if needed) as failure_<UTC time>_<hash>.txt, atomically;
    the lead passes the research unit's reports folder (warehouse/reports/research_unit/failures)."""
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    if name is None:
        stamp = dt.datetime.now(dt.UTC).strftime("%Y%m%dT%H%M%S%fZ")
        digest = hashlib.sha256(summary.encode("utf-8")).hexdigest()[:8]
        name = f"failure_{stamp}_{digest}.txt"
    path = folder / name
    tmp = path.with_name(f".{path.name}.tmp")
    tmp.write_text(summary, encoding="utf-8")
    os.replace(tmp, path)
    return path
