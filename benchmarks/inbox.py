"""Benchmark: the organiser's inbox with N jury replies (default 2,000), read once, then again.

A private Dovecot on 127.0.0.1 (``tests/harness/dovecot.py``; Debian's ``dovecot-imapd``, run
as root) gets N distinct replies appended (the Outlook, Gmail and Thunderbird fixtures of
``tests/formats/data/replies/`` in turn, each with its own Message-ID); the store knows the
invitations they answer. Then:

- first pass: ``read_inbox`` downloads them by chunks of 50 (``BODY.PEEK[]``), records each in
  the ledger and MOVEs it to the processed folder: messages/s;
- second pass: nothing to do — it must download nothing (it asks for the UIDs above the last
  one it looked at, and the folder is empty anyway): the count of messages it looked at, and
  its time.

Prints both and exits non-zero when the second pass downloads anything.

    .venv/bin/python benchmarks/inbox.py [--replies 2000]
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from syncsvc.app.inbox import read_inbox  # noqa: E402
from syncsvc.core.invitations import InvitationState  # noqa: E402
from syncsvc.inputs.loader import load_config, load_ruleset  # noqa: E402
from syncsvc.inputs.settings import Settings  # noqa: E402
from syncsvc.state.store import Store  # noqa: E402
from tests.harness.dovecot import PASSWORD, dovecot_server, ensure_dovecot  # noqa: E402

NOW = datetime(2026, 12, 5, 9, tzinfo=UTC)
SESSION = "dwwm-2027-06-venissieux"
REPLIES = ROOT / "tests" / "formats" / "data" / "replies"
JURORS = {
    "outlook-accepted.eml": ("t.girard@jury.example", "Thomas Girard"),
    "gmail-accepted.eml": ("e.lefevre@jury.example", "Émilie Lefèvre"),
    "thunderbird-declined.eml": ("y.haddad@jury.example", "Yasmina Haddad"),
}
PASSWORD_ENV = "SYNCSVC_BENCH_IMAP_PASSWORD"


def replies(count: int) -> list[bytes]:
    sources = [(REPLIES / name).read_bytes() for name in JURORS]
    out = []
    for n in range(count):
        data = re.sub(
            rb"Message-I[Dd]: <[^>]+>", f"Message-ID: <r{n}@bench.example>".encode(), sources[n % 3]
        )
        out.append(data)
    return out


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--replies", type=int, default=2000)
    args = parser.parse_args()
    reason = ensure_dovecot()
    if reason is not None:
        print(f"Dovecot unavailable: {reason}")
        return 1
    work = Path(tempfile.mkdtemp(prefix="syncsvc-bench-inbox-"))
    os.environ[PASSWORD_ENV] = PASSWORD
    try:
        with dovecot_server() as imap:
            user = imap.add_user()
            started = time.perf_counter()
            imap.append_many(user, replies(args.replies))
            appended = time.perf_counter() - started
            settings = Settings.model_validate(
                {
                    "mail": {
                        "inbox": {
                            "host": imap.host,
                            "port": imap.port,
                            "security": "none",
                            "username": user,
                            "password_env": PASSWORD_ENV,
                        }
                    }
                }
            )
            config = load_config(ROOT / "config", load_ruleset(settings.ruleset))
            store = Store(f"sqlite:///{work / 'state.db'}")
            store.migrate()
            for email, name in JURORS.values():
                store.enqueue(
                    key=f"invitation:{SESSION}:{email}:REQUEST:0",
                    kind="invitation",
                    recipient=email,
                    subject="Invitation",
                    message_id=f"<inv-{email}>",
                    message=b"x",
                    now=NOW,
                    invitation=InvitationState(SESSION, email, name, 0, "m", "invited"),
                )
            started = time.perf_counter()
            first = read_inbox(settings, config, store, NOW)
            first_time = time.perf_counter() - started
            started = time.perf_counter()
            second = read_inbox(settings, config, store, NOW)
            second_time = time.perf_counter() - started
            store.close()
    finally:
        shutil.rmtree(work, ignore_errors=True)
    print(f"replies appended with IMAP APPEND: {args.replies} in {appended:.2f} s")
    print(
        f"first pass: {first.looked} read, {first.recorded} recorded, {first.processed} moved "
        f"in {first_time:.2f} s — {first.looked / first_time:.0f} messages/s"
    )
    print(
        f"second pass: {second.looked} downloaded, {second.recorded} recorded "
        f"in {second_time * 1000:.0f} ms"
    )
    ok = first.recorded == args.replies and second.looked == 0
    print(f"second pass downloads nothing: {'yes' if second.looked == 0 else 'NO'}")
    return 0 if ok else 1


if __name__ == "__main__":
    raise SystemExit(main())
