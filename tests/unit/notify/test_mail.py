"""E-mail through a real SMTP server on 127.0.0.1 (aiosmtpd), and the summary file."""

from __future__ import annotations

import email
import socket
from email import policy

import pytest

aiosmtpd = pytest.importorskip("aiosmtpd")
from aiosmtpd.controller import Controller  # noqa: E402
from aiosmtpd.smtp import AuthResult, LoginPassword  # noqa: E402

from ct_pipeline.notify import SmtpSettings, failure_summary, send_email, subject_for, write_summary  # noqa: E402


class Sink:
    def __init__(self):
        self.envelopes = []

    async def handle_DATA(self, server, session, envelope):
        self.envelopes.append(envelope)
        return "250 Message accepted for delivery"


class Auth:
    def __init__(self, user: str, password: str):
        self.user, self.password, self.seen = user.encode(), password.encode(), []

    def __call__(self, server, session, envelope, mechanism, auth_data):
        ok = isinstance(auth_data, LoginPassword) and (auth_data.login, auth_data.password) == (self.user, self.password)
        self.seen.append((mechanism, ok))
        return AuthResult(success=ok)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def smtp_server():
    sink = Sink()
    auth = Auth("research", "s3cret")
    ctl = Controller(sink, hostname="127.0.0.1", port=_free_port(), authenticator=auth,
                     auth_require_tls=False)
    ctl.start()
    try:
        yield ctl, sink, auth
    finally:
        ctl.stop()


RUN_INFO = {
    "run_id": "7f3c2a",
    "job": "nightly",
    "step": "stg_screenings",
    "file": "MD-CHI/2026-11-20/cases.csv",
    "error": ValueError("could not parse 'Maria Lopez' born 1985-03-02 at row 12"),
    "exports_dir": "/srv/ct/raw_exports",
    "warehouse_dir": "/srv/ct/warehouse",
}


def test_mail_arrives_with_the_summary(smtp_server, monkeypatch):
    ctl, sink, _ = smtp_server
    monkeypatch.setenv("CT_SMTP_HOST", "127.0.0.1")
    monkeypatch.setenv("CT_SMTP_PORT", str(ctl.port))
    monkeypatch.setenv("CT_SMTP_FROM", "ct-pipeline@example.org")
    monkeypatch.setenv("CT_SMTP_TO", "research-unit@example.org, custodian@example.org")
    for var in ("CT_SMTP_USER", "CT_SMTP_PASSWORD", "CT_SMTP_STARTTLS"):
        monkeypatch.delenv(var, raising=False)
    summary = failure_summary(RUN_INFO)
    outcome = send_email(summary, subject_for(RUN_INFO), SmtpSettings.from_env())
    assert outcome.sent, outcome.detail
    assert len(sink.envelopes) == 1
    env = sink.envelopes[0]
    assert env.mail_from == "ct-pipeline@example.org"
    assert sorted(env.rcpt_tos) == ["custodian@example.org", "research-unit@example.org"]
    msg = email.message_from_bytes(env.original_content, policy=policy.default)
    body = msg.get_content()
    assert body.replace("\r\n", "\n").strip() == summary.strip()
    assert "WHAT WAS WRONG" in body and "WHAT TO DO" in body
    assert msg["Subject"].startswith("[ct_pipeline] step failed: stg_screenings")
    for v in ("Maria", "Lopez", "1985-03-02"):
        assert v not in env.original_content.decode("utf-8", "replace")


def test_mail_with_login(smtp_server):
    ctl, sink, auth = smtp_server
    settings = SmtpSettings(host="127.0.0.1", port=ctl.port, recipients=("ru@example.org",),
                            user="research", password="s3cret")
    outcome = send_email("hello", "subject", settings)
    assert outcome.sent, outcome.detail
    assert auth.seen and all(ok for _, ok in auth.seen)
    assert len(sink.envelopes) == 1


def test_no_host_means_no_mail_and_says_so(monkeypatch):
    monkeypatch.delenv("CT_SMTP_HOST", raising=False)
    outcome = send_email("summary", "subject")
    assert not outcome.sent and "CT_SMTP_HOST is not set" in outcome.detail


def test_unreachable_server_does_not_raise():
    outcome = send_email("summary", "subject", SmtpSettings(host="127.0.0.1", port=_free_port(),
                                                            recipients=("a@example.org",), timeout=3))
    assert not outcome.sent and "E-mail not sent" in outcome.detail


def test_settings_from_env():
    s = SmtpSettings.from_env({"CT_SMTP_HOST": "mail.local", "CT_SMTP_PORT": "587", "CT_SMTP_TO": "a@x, b@x",
                               "CT_SMTP_USER": "u", "CT_SMTP_PASSWORD": "hunter2-secret",
                               "CT_SMTP_STARTTLS": "yes"})
    assert (s.host, s.port, s.recipients, s.user, s.starttls) == ("mail.local", 587, ("a@x", "b@x"), "u", True)
    assert s.password == "hunter2-secret" and "hunter2" not in repr(s)
    assert not SmtpSettings.from_env({}).configured


def test_write_summary(tmp_path):
    folder = tmp_path / "reports" / "research_unit" / "failures"
    path = write_summary("the summary\n", folder)
    assert path.parent == folder and path.name.startswith("failure_") and path.suffix == ".txt"
    assert path.read_text(encoding="utf-8") == "the summary\n"
    assert [p.name for p in folder.iterdir()] == [path.name]  # no temporary file left
    assert write_summary("x", folder, name="latest.txt").name == "latest.txt"
