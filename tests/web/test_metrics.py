"""/metrics: aggregate figures only when open; per target behind a bearer token, with targets
labelled by kind and rank — never by their names (which name people) unless asked."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from pathlib import Path

import pytest

from syncsvc.inputs.settings import Settings
from tests.web.conftest import NOW, SECRET, SECRET_ENV, Served, serve, web_settings
from tests.web.test_health import BEARER, METRICS_TOKEN, METRICS_TOKEN_ENV, _parse

PER_TARGET = ("syncsvc_reconcile_runs_total", "syncsvc_items", "syncsvc_reconcile_errors_total")
EXPECTED_LABELS = {
    ("caldav-1", "coordinators"),
    ("caldav-2", "coordinators"),
    ("caldav-3", "session_manager"),
    ("feed-1", "coordinators"),
    ("feed-2", "coordinators"),
    ("feed-3", "coordinators"),
    ("feed-4", "jury"),
}


def _activity(served: Served) -> None:
    served.status.record_reconcile(
        [("flux-jury-maillot", True, 0.25), ("responsable-chabert", False, 1.5)], NOW
    )
    served.status.record_reconcile([("flux-jury-maillot", True, 0.75)], NOW)
    served.store.record_item_error("responsable-chabert", "x@syncsvc", "refusé", NOW)


def _no_names(served: Served, text: str) -> None:
    for target in served.settings.targets:
        assert target.name not in text
    for fragment in ("chabert", "maillot", "st-andre", "@"):
        assert fragment not in text


def test_open_metrics_show_aggregate_figures_only(served: Served) -> None:
    _activity(served)
    with served.client() as client:
        response = client.get("/metrics")
    assert response.status_code == 200
    _no_names(served, response.text)
    _, types, samples = _parse(response.text)
    assert "target=" not in response.text
    assert samples["syncsvc_reconcile_runs_total"] == [({}, 3.0)]
    assert samples["syncsvc_reconcile_errors_total"] == [({}, 1.0)]
    assert samples["syncsvc_reconcile_duration_seconds_sum"] == [({}, 2.5)]
    assert samples["syncsvc_reconcile_duration_seconds_count"] == [({}, 3.0)]
    assert samples["syncsvc_item_errors"] == [({}, 1.0)]
    assert "syncsvc_reconcile_last_duration_seconds" not in types  # per target only
    assert samples["syncsvc_overdue_milestones"][0][1] > 0  # the plan's figures stay open


@pytest.fixture
def protected(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Served]:
    monkeypatch.setenv(SECRET_ENV, SECRET)
    monkeypatch.setenv(METRICS_TOKEN_ENV, METRICS_TOKEN)

    def settings(config: Path) -> Settings:
        return web_settings(config, metrics_token_env=METRICS_TOKEN_ENV)

    with serve(tmp_path, settings) as running:
        yield running


@pytest.mark.parametrize(
    "headers",
    [
        {},
        {"Authorization": "Bearer"},
        {"Authorization": "Bearer faux"},
        {"Authorization": f"Basic {METRICS_TOKEN}"},
        {"Authorization": f"Bearer {METRICS_TOKEN}x"},
    ],
)
def test_with_a_token_metrics_need_it(protected: Served, headers: dict[str, str]) -> None:
    with protected.client() as client:
        response = client.get("/metrics", headers=headers)
    assert response.status_code == 401
    assert response.headers["www-authenticate"].startswith("Bearer")
    assert "syncsvc_" not in response.text


def test_targets_are_labelled_by_kind_and_rank_not_by_name(
    protected: Served, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    _activity(protected)
    with protected.client() as client:
        response = client.get("/metrics", headers=BEARER)
    assert response.status_code == 200
    _no_names(protected, response.text)
    _, _, samples = _parse(response.text)
    for family in PER_TARGET:
        labels = {(lbl["target"], lbl["audience"]) for lbl, _ in samples[family]}
        assert labels == EXPECTED_LABELS, family
    runs = {lbl["target"]: v for lbl, v in samples["syncsvc_reconcile_runs_total"]}
    assert runs["feed-4"] == 2  # flux-jury-maillot, the 4th feed
    assert runs["caldav-3"] == 1  # responsable-chabert, the 3rd CalDAV calendar
    last = {lbl["target"]: v for lbl, v in samples["syncsvc_reconcile_last_duration_seconds"]}
    assert last == {"feed-4": 0.75, "caldav-3": 1.5}
    assert METRICS_TOKEN not in caplog.text


def test_a_token_variable_that_is_not_set_closes_metrics(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(SECRET_ENV, SECRET)
    monkeypatch.delenv(METRICS_TOKEN_ENV, raising=False)

    def closed(config: Path) -> Settings:
        return web_settings(config, metrics_token_env=METRICS_TOKEN_ENV)

    with serve(tmp_path, closed) as served, served.client() as client:
        for headers in ({}, {"Authorization": "Bearer"}, BEARER):
            response = client.get("/metrics", headers=headers)
            assert response.status_code == 503
            assert METRICS_TOKEN_ENV in response.text
            assert "syncsvc_" not in response.text.replace(METRICS_TOKEN_ENV, "")
