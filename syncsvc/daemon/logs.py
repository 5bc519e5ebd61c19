"""Logs of the service: readable lines, or one JSON object per line (``--log-format json``).

No password, token or candidate data is ever logged: messages say what happened, not the data.
"""

from __future__ import annotations

import json
import logging
from datetime import UTC, datetime


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        entry = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(),
            "level": record.levelname.lower(),
            "logger": record.name,
            "message": record.getMessage(),
        }
        if record.exc_info:
            entry["error"] = self.formatException(record.exc_info)
        return json.dumps(entry, ensure_ascii=False)


def setup_logging(fmt: str = "text", level: int = logging.INFO) -> None:
    handler = logging.StreamHandler()
    handler.setFormatter(
        JsonFormatter()
        if fmt == "json"
        else logging.Formatter("%(asctime)s %(levelname)s %(name)s : %(message)s")
    )
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level)
    # imapclient's debug trace is the IMAP conversation (messages' content), MSAL's the token
    # requests: never in the service's logs, whatever the level
    for noisy in (
        "apscheduler",
        "uvicorn.access",
        "niquests",
        "urllib3",
        "httpx",
        "mail.log",
        "imapclient",
        "msal",
    ):
        logging.getLogger(noisy).setLevel(logging.WARNING)
