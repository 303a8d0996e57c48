"""Failures that explain themselves: a plain-text summary (what was wrong, what to do, where to
look), written to the research unit's reports folder and e-mailed when SMTP is configured.
Nothing here ever shows a value from the data (see `sanitize`)."""

from ct_pipeline.notify.mail import EmailOutcome, SmtpSettings, send_email, write_summary
from ct_pipeline.notify.sanitize import sanitize_message
from ct_pipeline.notify.summary import failure_summary, infer_kind, is_transient, subject_for

__all__ = [
    "EmailOutcome",
    "SmtpSettings",
    "failure_summary",
    "infer_kind",
    "is_transient",
    "sanitize_message",
    "send_email",
    "subject_for",
    "write_summary",
]
