"""docker-compose.yml as a user starts it (``up -d --wait``): syncsvc, Radicale and the mail
catcher, found by their service names. CI runs it on local stand-ins for the upstream Radicale
and Mailpit images (``compose.ci.yml``)."""

from __future__ import annotations

import re
import time

import httpx

from tests.container.engine import HERE, ROOT, Docker, Images, wait_for
from tests.container.stack import NOW, due_mail, events, logged_in, running

CALENDARS = {
    # target name in config/syncsvc.compose.toml -> its Radicale calendar
    "coordination-st-andre": "examens-st-andre",
    "coordination-venissieux": "examens-venissieux",
}
SESSIONS = {
    "examens-st-andre": ("[SA 15/03]", "[AC 10/05]"),
    "examens-venissieux": ("[CTRMP 22/02]", "[DWWM 07/06]"),
}
CREATED = re.compile(r"^synchronisation ([a-z0-9-]+) : (\d+) création\(s\), 0 mise\(s\) à jour")


def test_the_stack_publishes_the_examples_sends_their_mail_once_and_stops_cleanly(
    docker: Docker, images: Images
) -> None:
    images.get("syncsvc", "radicale", "catcher")
    expected_mail = due_mail("syncsvc.compose.toml")
    files = (ROOT / "docker-compose.yml", HERE / "compose.ci.yml")
    with running(docker, files, {"SYNCSVC_TEST_NOW": NOW}) as stack:
        # `up --wait` returned: Radicale and the catcher were healthy before syncsvc started
        # (depends_on: service_healthy), and syncsvc's own healthcheck passed.
        syncsvc = stack.container("syncsvc")
        assert docker.inspect(syncsvc, "{{.State.Health.Status}}") == "healthy"
        assert docker.inspect(syncsvc, "{{.HostConfig.Init}} {{.HostConfig.ReadonlyRootfs}}") == (
            "true true"
        )

        # Events: the first pass creates every example session's milestones in its centre's
        # calendar, through the service name `radicale`.
        created: dict[str, int] = {}

        def first_pass() -> bool:
            for line in stack.messages("syncsvc"):
                found = CREATED.match(line)
                if found and found.group(1) in CALENDARS:
                    created[found.group(1)] = int(found.group(2))
            return created.keys() == CALENDARS.keys()

        wait_for("the first synchronisation of both calendars", first_pass, seconds=60)
        radicale = stack.url("radicale", 5232)
        for target, calendar in CALENDARS.items():
            found = events(radicale, "coordination", calendar)
            assert created[target] > 0
            assert len(found) == created[target], (target, len(found), created[target])
            assert len({uid for uid, _, _ in found}) == len(found)
            for label in SESSIONS[calendar]:
                assert any(label in summary for _, summary, _ in found), (calendar, label)

        # Mail: what `notify --dry-run` says is due reaches the catcher (service name
        # `mailpit`), each message once.
        wait_for(
            f"{expected_mail} messages at the catcher",
            lambda: sum(stack.caught().values()) >= expected_mail,
            seconds=60,
        )
        time.sleep(2)  # a message sent twice would arrive right after the others
        caught = stack.caught()
        assert len(caught) == expected_mail
        assert {mid: n for mid, n in caught.items() if n > 1} == {}

        # The dashboard through the published port: healthy, ready (the last pass succeeded),
        # and the example sessions on its first page for the demo account.
        dashboard = stack.url("syncsvc", 8080)
        assert httpx.get(f"{dashboard}/healthz", timeout=10).status_code == 200
        ready = httpx.get(f"{dashboard}/readyz", timeout=10)
        assert ready.status_code == 200, ready.text
        with logged_in(dashboard, "demo", "demo") as client:
            page = client.get("/")
            assert page.status_code == 200
            assert "5 session(s)" in page.text
            for labels in SESSIONS.values():
                for label in labels:
                    assert f"{label.strip('[]')} — " in page.text

        # `docker compose stop`: through the init (init: true), SIGTERM reaches the service,
        # which finishes its work and exits 0 well within stop_grace_period (30 s).
        start = time.monotonic()
        stack.compose("stop", "syncsvc", timeout=90)
        assert time.monotonic() - start < 30
        assert docker.inspect(syncsvc, "{{.State.ExitCode}}") == "0"
        assert stack.messages("syncsvc")[-1] == "arrêt terminé"
