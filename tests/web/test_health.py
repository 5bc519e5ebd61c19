"""/healthz, /readyz and /metrics: plain text, no personal data (/metrics in full behind its
bearer token: tests/web/test_metrics.py)."""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import httpx
import pytest

from syncsvc.inputs.settings import Settings
from tests.web.conftest import NOW, SECRET, SECRET_ENV, SESSION_ID, Served, serve, web_settings

# name{labels} value (labels optional), as the text exposition format 0.0.4 writes them.
SAMPLE_RE = re.compile(
    r"^(?P<name>[a-zA-Z_:][a-zA-Z0-9_:]*)"
    r'(?:\{(?P<labels>[a-zA-Z_][a-zA-Z0-9_]*="(?:[^"\\\n]|\\.)*"'
    r'(?:,[a-zA-Z_][a-zA-Z0-9_]*="(?:[^"\\\n]|\\.)*")*)\})?'
    r" (?P<value>[-+]?(?:[0-9.]+(?:e[-+]?[0-9]+)?|NaN|Inf))$"
)
LABEL_RE = re.compile(r'([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"')
Samples = dict[str, list[tuple[dict[str, str], float]]]
METRICS_TOKEN_ENV = "SYNCSVC_TEST_METRICS_TOKEN"
METRICS_TOKEN = "jeton-de-test-des-metriques"
BEARER = {"Authorization": f"Bearer {METRICS_TOKEN}"}


@pytest.fixture
def named_metrics(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Served]:
    """The app with /metrics behind a token, targets labelled by name (the admin's opt-in)."""
    monkeypatch.setenv(SECRET_ENV, SECRET)
    monkeypatch.setenv(METRICS_TOKEN_ENV, METRICS_TOKEN)

    def settings(config: Path) -> Settings:
        return web_settings(config, metrics_token_env=METRICS_TOKEN_ENV, metrics_target_names=True)

    with serve(tmp_path, settings) as running:
        yield running


def test_healthz(served: Served) -> None:
    with served.client() as client:
        response = client.get("/healthz")
    assert response.status_code == 200
    assert response.text == "ok\n"


def test_readyz_follows_the_last_reconcile(served: Served) -> None:
    with served.client() as client:
        first = client.get("/readyz")
        assert first.status_code == 503
        assert "aucune synchronisation" in first.text

        served.status.record_reconcile([("flux-jury-maillot", False, 0.5)], NOW)
        failed = client.get("/readyz")
        assert failed.status_code == 503
        assert "a échoué" in failed.text

        served.status.record_reconcile([("flux-jury-maillot", True, 0.2)], NOW)
        ready = client.get("/readyz")
        assert ready.status_code == 200
        assert ready.text.startswith("prêt")

        limit = served.settings.web.ready_within_minutes
        served.clock.now = NOW + timedelta(minutes=limit + 1)
        stale = client.get("/readyz")
        assert stale.status_code == 503
        assert f"il y a {limit + 1} min" in stale.text


def test_readyz_without_a_reconciler_checks_the_store_only(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(SECRET_ENV, "clé")
    with serve(tmp_path, with_status=False) as served, served.client() as client:
        response = client.get("/readyz")
    assert response.status_code == 200
    assert "aucune synchronisation suivie" in response.text


def test_readyz_fails_when_the_store_is_gone(served: Served) -> None:
    served.status.record_reconcile([("flux-jury-maillot", True, 0.2)], NOW)
    served.store.engine.dispose()
    (served.root / "state.db").unlink()
    (served.root / "state.db").mkdir()  # a folder: SQLite cannot open it
    with served.client() as client:
        response = client.get("/readyz")
    assert response.status_code == 503
    assert "base d'état injoignable" in response.text


def _parse(text: str) -> tuple[dict[str, str], dict[str, str], Samples]:
    helps: dict[str, str] = {}
    types: dict[str, str] = {}
    samples: Samples = {}
    assert text.endswith("\n")
    for line in text.splitlines():
        if line.startswith("# HELP "):
            name, _, help_text = line[7:].partition(" ")
            assert name not in helps, f"HELP twice for {name}"
            helps[name] = help_text
        elif line.startswith("# TYPE "):
            name, _, kind = line[7:].partition(" ")
            assert kind in ("counter", "gauge", "summary", "histogram", "untyped"), line
            assert name in helps, f"TYPE before HELP: {line}"
            assert name not in types, f"TYPE twice: {line}"
            types[name] = kind
        else:
            match = SAMPLE_RE.match(line)
            assert match, f"not a sample line: {line!r}"
            labels = dict(LABEL_RE.findall(match.group("labels") or ""))
            samples.setdefault(match.group("name"), []).append((labels, float(match["value"])))
    return helps, types, samples


def _family(name: str, types: dict[str, str]) -> str:
    for suffix in ("_sum", "_count"):
        base = name.removesuffix(suffix)
        if base != name and types.get(base) == "summary":
            return base
    return name


@pytest.mark.parametrize("with_activity", [False, True])
def test_metrics_exposition(named_metrics: Served, with_activity: bool) -> None:
    served = named_metrics
    if with_activity:
        served.status.record_reconcile(
            [("flux-jury-maillot", True, 0.25), ("flux-coordination-st-andre", False, 1.5)], NOW
        )
        served.status.record_reconcile([("flux-jury-maillot", True, 0.75)], NOW)
        served.status.record_notify(sent=3, failed=1, finished_at=NOW)
        served.store.enqueue(
            key="k",
            kind="reminder",
            recipient="n.techer@afpar.example",
            subject="Rappel",
            message_id="<k@test>",
            message=b"x",
            now=NOW,
        )
    with served.client() as client:
        response = client.get("/metrics", headers=BEARER)
    assert response.status_code == 200
    assert response.headers["content-type"] == "text/plain; version=0.0.4; charset=utf-8"
    helps, types, samples = _parse(response.text)
    assert set(helps) == set(types)
    for name in samples:
        assert _family(name, types) in types, f"{name} has no TYPE"
    for name, kind in types.items():
        assert (kind == "counter") == name.endswith("_total"), name
    required = {
        "syncsvc_reconcile_runs_total": "counter",
        "syncsvc_reconcile_errors_total": "counter",
        "syncsvc_reconcile_duration_seconds": "summary",
        "syncsvc_reconcile_last_duration_seconds": "gauge",
        "syncsvc_items": "gauge",
        "syncsvc_outbox_messages": "gauge",
        "syncsvc_mails_sent_total": "counter",
        "syncsvc_mails_failed_total": "counter",
        "syncsvc_milestones": "gauge",
        "syncsvc_overdue_milestones": "gauge",
    }
    for name, kind in required.items():
        assert types.get(name) == kind, name
    targets = {t.name for t in served.settings.targets}
    assert {lbl["target"] for lbl, _ in samples["syncsvc_reconcile_runs_total"]} == targets
    assert {lbl["target"] for lbl, _ in samples["syncsvc_items"]} == targets
    outbox = {lbl["state"]: v for lbl, v in samples["syncsvc_outbox_messages"]}
    assert set(outbox) >= {"pending", "sent", "dead"}
    milestones = {lbl["status"]: v for lbl, v in samples["syncsvc_milestones"]}
    assert set(milestones) == {"overdue", "due_soon", "pending", "done"}
    assert samples["syncsvc_overdue_milestones"] == [({}, milestones["overdue"])]
    assert milestones["overdue"] > 0
    assert SESSION_ID not in response.text
    assert "@" not in response.text  # no address, not even a jury feed's audience

    runs = {lbl["target"]: v for lbl, v in samples["syncsvc_reconcile_runs_total"]}
    if not with_activity:
        assert set(runs.values()) == {0.0}
        assert outbox["pending"] == 0
        assert "syncsvc_reconcile_last_duration_seconds" not in samples
        return
    assert runs["flux-jury-maillot"] == 2
    errors = {lbl["target"]: v for lbl, v in samples["syncsvc_reconcile_errors_total"]}
    assert errors == {t: (1.0 if t == "flux-coordination-st-andre" else 0.0) for t in targets}
    sums = {lbl["target"]: v for lbl, v in samples["syncsvc_reconcile_duration_seconds_sum"]}
    counts = {lbl["target"]: v for lbl, v in samples["syncsvc_reconcile_duration_seconds_count"]}
    assert sums["flux-jury-maillot"] == 1.0
    assert counts["flux-jury-maillot"] == 2
    last = {lbl["target"]: v for lbl, v in samples["syncsvc_reconcile_last_duration_seconds"]}
    assert last == {"flux-jury-maillot": 0.75, "flux-coordination-st-andre": 1.5}
    assert samples["syncsvc_mails_sent_total"] == [({}, 3.0)]
    assert samples["syncsvc_mails_failed_total"] == [({}, 1.0)]
    assert outbox["pending"] == 1


def test_done_marks_move_the_milestone_metrics(served: Served) -> None:
    def overdue() -> float:
        with served.client() as client:
            _, _, samples = _parse(client.get("/metrics").text)
        return samples["syncsvc_overdue_milestones"][0][1]

    before = overdue()
    served.store.mark_done(SESSION_ID, "dte_order", NOW.date(), "test", None, NOW)
    assert overdue() == before - 1


def test_readyz_says_not_ready_when_the_last_pass_failed_with_the_reason(served: Served) -> None:
    """Reported: with the state folder full or read-only, passes failed and /readyz still said
    « prêt »."""
    served.status.record_reconcile([("coordination", True, 0.1)], served.clock.now)
    with httpx.Client(base_url=served.base) as client:
        assert client.get("/readyz").status_code == 200
        served.status.reconcile_failed(
            "disque plein : la base d'état ne peut plus rien enregistrer", served.clock.now
        )
        answer = client.get("/readyz")
        assert answer.status_code == 503
        assert "disque plein" in answer.text
        served.status.record_reconcile([("coordination", True, 0.1)], served.clock.now)
        served.status.notify_failed("relais SMTP injoignable (ConnectionRefusedError)")
        answer = client.get("/readyz")
        assert answer.status_code == 503
        assert "envois a échoué : relais SMTP injoignable" in answer.text
        served.status.notify_failed(None)
        assert client.get("/readyz").status_code == 200
