"""A real IMAP server for the tests: Dovecot from Debian (``dovecot-imapd``), private instance.

Debian's ``dovecot-imapd`` and ``cyrus-imapd`` (the CalDAV tests' Cyrus) conflict: installing
one removes the other. So only ``dovecot-core`` is installed (it conflicts with nothing); the
IMAP programs come from ``dovecot-imapd``'s package of the same version, downloaded with
``apt-get download`` and unpacked (``dpkg-deb -x``) into a folder of their own, which the
private instance's configuration names. An installed ``dovecot-imapd`` is used as it is.

Each instance runs ``dovecot -F`` (as root: it switches to its own ``dovecot``/``dovenull``
users) bound to 127.0.0.1 on a free port, with everything (configuration, passwd-file, Maildir
storage, sockets, log) in a fresh ``/tmp/syncsvc-dovecot-*`` folder (pytest's own folders are
private to root, Dovecot's users could not enter them), deleted on exit. Users are checked
against a passwd-file each (plain passwords, tests only); ``add_user`` adds one.
``capabilities`` replaces what the server announces (``IMAP4rev1 UIDPLUS``: no IDLE, no MOVE),
to test the paths for servers without them; ``certificate`` turns on implicit TLS;
``oauth2_introspection`` (an URL) adds Dovecot's ``oauth2`` passdb for the SASL mechanisms
XOAUTH2 and OAUTHBEARER, asking that URL about each token (RFC 7662 introspection, POSTed
``token=…``; the answer's ``active`` must be ``true`` and its ``username`` the login's user).

Installed by :func:`ensure_dovecot` when ``SYNCSVC_INSTALL_SYSTEM_DEPS=1`` and running as root
(as CI runs), like libical for tests/interop and Cyrus for the CalDAV tests.
"""

from __future__ import annotations

import imaplib
import os
import pwd
import secrets
import shutil
import ssl
import subprocess
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from pathlib import Path
from typing import Final

from tests.harness.exclusive import one_at_a_time
from tests.harness.servers import ServerStartError, free_port

DOVECOT_PACKAGES: Final = ("dovecot-core",)
IMAP_PACKAGE: Final = "dovecot-imapd"
DOVECOT: Final = Path("/usr/sbin/dovecot")
LIBEXEC: Final = Path("/usr/lib/dovecot")
IMAP_PROGRAMS: Final = (
    "imap",
    "imap-login",
    "imap-hibernate",
    "imap-urlauth",
    "imap-urlauth-login",
    "imap-urlauth-worker",
)
LOCALHOST: Final = "127.0.0.1"
PASSWORD: Final = "mot-de-passe-imap"
_START_TIMEOUT: Final = 15.0


def _core_version() -> str | None:
    done = subprocess.run(
        ["dpkg-query", "-W", "-f=${Version}", "dovecot-core"],
        capture_output=True,
        text=True,
        check=False,
    )
    return done.stdout.strip() or None if done.returncode == 0 else None


def _unpacked(version: str) -> Path:
    """Where ``dovecot-imapd`` of ``version`` is unpacked (programs under usr/lib/dovecot)."""
    safe = "".join(c if c.isalnum() or c in ".+-" else "_" for c in version)
    return Path(tempfile.gettempdir()) / f"syncsvc-dovecot-imapd-{safe}"


def imap_programs() -> Path | None:
    """The folder of the IMAP programs: the installed package's, else the unpacked one."""
    if os.access(LIBEXEC / "imap", os.X_OK):
        return LIBEXEC
    version = _core_version()
    if version is None:
        return None
    folder = _unpacked(version) / "usr" / "lib" / "dovecot"
    return folder if os.access(folder / "imap", os.X_OK) else None


def dovecot_available() -> str | None:
    """None when a private Dovecot can be started here, else the reason."""
    if not os.access(DOVECOT, os.X_OK) or imap_programs() is None:
        return (
            f"Dovecot is not installed ({DOVECOT} or its IMAP programs missing); install the "
            f"Debian packages dovecot-core and {IMAP_PACKAGE} (or set "
            "SYNCSVC_INSTALL_SYSTEM_DEPS=1 as root: the tests then install dovecot-core and "
            f"unpack {IMAP_PACKAGE}, which conflicts with Cyrus)"
        )
    for user in ("dovecot", "dovenull"):
        try:
            pwd.getpwnam(user)
        except KeyError:
            return f"Dovecot is installed but the system user {user!r} does not exist"
    if os.geteuid() != 0:
        return "Dovecot's master must be started as root (it switches to its own users)"
    return None


def ensure_dovecot() -> str | None:
    """Like :func:`dovecot_available`, but first apt-installs Dovecot when allowed and missing
    (``SYNCSVC_INSTALL_SYSTEM_DEPS=1``, root, apt-get; ``apt-get update`` and a second try when
    the first install fails), one test process at a time. The package's own service is not
    used."""
    with one_at_a_time("apt"):
        return _ensure_dovecot()


def _ensure_dovecot() -> str | None:
    reason = dovecot_available()
    if reason is None or os.environ.get("SYNCSVC_INSTALL_SYSTEM_DEPS") != "1":
        return reason
    apt = shutil.which("apt-get")
    if os.geteuid() != 0 or apt is None:
        return f"{reason} (cannot apt-install: not root or no apt-get)"
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    install = [apt, "install", "-y", "--no-install-recommends", *DOVECOT_PACKAGES]

    def run(argv: list[str]) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            argv, env=env, stdin=subprocess.DEVNULL, capture_output=True, text=True, check=False
        )

    if not os.access(DOVECOT, os.X_OK):
        done = run(install)
        if done.returncode != 0:
            run([apt, "update"])
            done = run(install)
        if done.returncode != 0:
            output = (done.stdout + done.stderr)[-2000:]
            return f"{reason}; apt-get install failed with code {done.returncode}:\n{output}"
    version = _core_version()
    if imap_programs() is None and version is not None:
        with tempfile.TemporaryDirectory() as download:
            fetch = [apt, "download", f"{IMAP_PACKAGE}={version}"]
            done = subprocess.run(
                fetch, env=env, cwd=download, capture_output=True, text=True, check=False
            )
            if done.returncode != 0:
                run([apt, "update"])
                done = subprocess.run(
                    fetch, env=env, cwd=download, capture_output=True, text=True, check=False
                )
            debs = sorted(Path(download).glob("*.deb"))
            if done.returncode != 0 or not debs:
                output = (done.stdout + done.stderr)[-2000:]
                return f"{reason}; apt-get download {IMAP_PACKAGE} failed:\n{output}"
            target = _unpacked(version)
            subprocess.run(["dpkg-deb", "-x", str(debs[0]), str(target)], check=True)
            target.chmod(0o755)
    return dovecot_available()


@dataclass
class ImapServer:
    """A running Dovecot: where it listens and how to reach a user's mailbox."""

    host: str
    port: int
    root: Path
    tls: bool
    ca_file: Path | None = None

    def add_user(self, username: str | None = None) -> str:
        """A new user (its mailbox is created at its first login); returns its name."""
        name = username or f"u{secrets.token_hex(6)}"
        # One passwd-file per user: Dovecot re-reads a changed file only when its mtime (in
        # seconds) moves, so two users added within a second would miss the second.
        passwd = self.root / "users" / name
        passwd.write_text(f"{name}:{{PLAIN}}{PASSWORD}\n", encoding="utf-8")
        passwd.chmod(0o644)
        return name

    @contextmanager
    def connect(self, username: str) -> Iterator[imaplib.IMAP4]:
        if self.tls:
            context = ssl.create_default_context(cafile=str(self.ca_file))
            imap: imaplib.IMAP4 = imaplib.IMAP4_SSL(
                self.host, self.port, ssl_context=context, timeout=10
            )
        else:
            imap = imaplib.IMAP4(self.host, self.port, timeout=10)
        try:
            imap.login(username, PASSWORD)
            yield imap
        finally:
            with suppress(Exception):
                imap.logout()

    def append(self, username: str, message: bytes, folder: str = "INBOX") -> None:
        """APPEND ``message`` to ``folder`` (created when missing), as a client would."""
        with self.connect(username) as imap:
            if folder != "INBOX":
                imap.create(_quoted(folder))
            status, answer = imap.append(_quoted(folder), None, None, message)
            assert status == "OK", answer

    def append_many(self, username: str, messages: list[bytes], folder: str = "INBOX") -> None:
        with self.connect(username) as imap:
            for message in messages:
                status, answer = imap.append(_quoted(folder), None, None, message)
                assert status == "OK", answer

    def messages(self, username: str, folder: str = "INBOX") -> list[bytes]:
        """Every message of ``folder`` (as stored), in UID order; [] when it does not exist."""
        with self.connect(username) as imap:
            status, _ = imap.select(_quoted(folder), readonly=True)
            if status != "OK":
                return []
            status, found = imap.uid("SEARCH", "ALL")
            uids = found[0].split() if found and found[0] else []
            out = []
            for uid in uids:
                status, data = imap.uid("FETCH", uid, "(BODY.PEEK[])")
                part = data[0]
                assert isinstance(part, tuple)
                out.append(part[1])
            return out

    def flags(self, username: str, folder: str = "INBOX") -> list[str]:
        with self.connect(username) as imap:
            imap.select(_quoted(folder), readonly=True)
            _, data = imap.uid("FETCH", "1:*", "(FLAGS)")
            return [d.decode() for d in data if isinstance(d, bytes)]


def _quoted(folder: str) -> str:
    """A folder name for imaplib: modified UTF-7 (RFC 3501 §5.1.3), quoted."""
    encoded = _utf7(folder)
    return f'"{encoded}"'


def _utf7(text: str) -> str:
    import base64

    out, pending = [], ""

    def flush() -> None:
        nonlocal pending
        if pending:
            raw = base64.b64encode(pending.encode("utf-16-be")).decode().rstrip("=")
            out.append("&" + raw.replace("/", ",") + "-")
            pending = ""

    for char in text:
        if 0x20 <= ord(char) <= 0x7E:
            flush()
            out.append("&-" if char == "&" else char)
        else:
            pending += char
    flush()
    return "".join(out)


def _oauth2_config(root: Path, introspection: str | None) -> tuple[str, str]:
    """(the auth lines, the oauth2 passdb: empty without OAuth2) of the configuration.

    Either way: no delay after a refused login (2 s by default), and no growing penalty for
    127.0.0.1 (one server serves the whole session and several tests refuse a login): a
    refusal is answered as it would be, only at once.
    https://doc.dovecot.org/2.3/configuration_manual/authentication/"""
    immediate = (
        "auth_failure_delay = 0\n"
        "service anvil {\n  unix_listener anvil-auth-penalty {\n    mode = 0\n  }\n}\n"
    )
    if introspection is None:
        return f"auth_mechanisms = plain login\n{immediate}", ""
    args = root / "dovecot-oauth2.conf.ext"
    args.write_text(
        "introspection_mode = post\n"
        f"introspection_url = {introspection}\n"
        "force_introspection = yes\n"
        "username_attribute = username\n"
        "active_attribute = active\n"
        "active_value = true\n",
        encoding="utf-8",
    )
    args.chmod(0o644)
    return (
        f"auth_mechanisms = plain login xoauth2 oauthbearer\n{immediate}",
        f"passdb {{\n  driver = oauth2\n  mechanisms = xoauth2 oauthbearer\n  args = {args}\n}}\n",
    )


def _config(
    root: Path,
    port: int,
    capabilities: str | None,
    tls: tuple[Path, Path] | None,
    oauth2_introspection: str | None = None,
) -> str:
    account = pwd.getpwnam("dovecot")
    mechanisms, oauth2_passdb = _oauth2_config(root, oauth2_introspection)
    listener = (
        f"  inet_listener imap {{\n    port = 0\n  }}\n"
        f"  inet_listener imaps {{\n    address = {LOCALHOST}\n    port = {port}\n"
        "    ssl = yes\n  }\n"
        if tls
        else f"  inet_listener imap {{\n    address = {LOCALHOST}\n    port = {port}\n  }}\n"
        "  inet_listener imaps {\n    port = 0\n  }\n"
    )
    ssl_lines = (
        f"ssl = required\nssl_cert = <{tls[0]}\nssl_key = <{tls[1]}\n" if tls else "ssl = no\n"
    )
    caps = f"protocol imap {{\n  imap_capability = {capabilities}\n}}\n" if capabilities else ""
    programs = imap_programs() or LIBEXEC
    executables = "".join(
        f"service {name} {{\n  executable = {programs / name}\n}}\n"
        for name in IMAP_PROGRAMS
        if name != "imap-login"
    )
    return (
        f"base_dir = {root / 'run'}\n"
        f"state_dir = {root / 'state'}\n"
        f"instance_name = syncsvc-{root.name}\n"
        f"log_path = {root / 'dovecot.log'}\n"
        "protocols = imap\n"
        f"listen = {LOCALHOST}\n"
        f"{ssl_lines}"
        "disable_plaintext_auth = no\n"
        f"{mechanisms}"
        f"first_valid_uid = {account.pw_uid}\n"
        f"mail_location = maildir:{root / 'mail'}/%u\n"
        "default_internal_user = dovecot\n"
        "default_login_user = dovenull\n"
        f"{oauth2_passdb}"
        "passdb {\n  driver = passwd-file\n"
        f"  args = scheme=PLAIN username_format=%u {root / 'users'}/%u\n}}\n"
        "userdb {\n  driver = static\n"
        f"  args = uid=dovecot gid=dovecot home={root / 'mail'}/%u\n}}\n"
        "namespace inbox {\n  inbox = yes\n  separator = /\n}\n"
        f"service imap-login {{\n  executable = {programs / 'imap-login'}\n{listener}}}\n"
        f"{executables}"
        "service stats {\n"
        "  unix_listener stats-reader {\n    mode = 0666\n  }\n"
        "  unix_listener stats-writer {\n    mode = 0666\n  }\n}\n"
        f"{caps}"
    )


def _answers(port: int, tls: bool) -> bool:
    import socket

    try:
        with socket.create_connection((LOCALHOST, port), timeout=0.5) as sock:
            if tls:
                return True  # the TLS greeting needs a handshake: a connection is enough
            return sock.recv(64).startswith(b"* OK")
    except OSError:
        return False


@contextmanager
def dovecot_server(
    *,
    capabilities: str | None = None,
    certificate: tuple[Path, Path] | None = None,
    oauth2_introspection: str | None = None,
) -> Iterator[ImapServer]:
    """A private Dovecot on a free port (see the module's docstring)."""
    reason = dovecot_available()
    if reason is not None:
        raise ServerStartError(f"dovecot cannot start: {reason}")
    root = Path(tempfile.mkdtemp(prefix="syncsvc-dovecot-"))
    root.chmod(0o755)
    account = pwd.getpwnam("dovecot")
    try:
        for name in ("run", "state", "mail", "users"):
            (root / name).mkdir()
        os.chown(root / "mail", account.pw_uid, account.pw_gid)
        (root / "users").chmod(0o755)
        for attempt in range(3):
            port = free_port()
            (root / "dovecot.conf").write_text(
                _config(root, port, capabilities, certificate, oauth2_introspection)
            )
            log = (root / "out.log").open("wb")
            proc = subprocess.Popen(
                [str(DOVECOT), "-F", "-c", str(root / "dovecot.conf")],
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
            try:
                deadline = time.monotonic() + _START_TIMEOUT
                while not _answers(port, certificate is not None):
                    if proc.poll() is not None or time.monotonic() > deadline:
                        break
                    time.sleep(0.05)
                else:
                    yield ImapServer(
                        LOCALHOST,
                        port,
                        root,
                        certificate is not None,
                        certificate[0] if certificate else None,
                    )
                    return
                if attempt == 2:
                    logs = [root / "out.log", root / "dovecot.log"]
                    text = "\n".join(
                        p.read_text(errors="replace")[-2000:] for p in logs if p.exists()
                    )
                    raise ServerStartError(f"dovecot did not start:\n{text}")
            finally:
                with suppress(ProcessLookupError, PermissionError):
                    os.killpg(proc.pid, 15)
                proc.terminate()
                try:
                    proc.wait(10)
                except subprocess.TimeoutExpired:
                    with suppress(ProcessLookupError, PermissionError):
                        os.killpg(proc.pid, 9)
                    proc.wait(5)
                log.close()
    finally:
        shutil.rmtree(root, ignore_errors=True)
