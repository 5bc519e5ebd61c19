# mypy: ignore-errors
"""Parse .ics files with libical (through GObject introspection) and report what it rejects.

Runs under the SYSTEM Python (``/usr/bin/python3``), which has ``gi``; Debian packages
``gir1.2-ical-3.0 python3-gi``. For each path on the command line it prints one JSON line::

    {"file": ..., "ok": bool, "errors": [...], "libical": "3.0.16"}

``errors`` lists, without duplicates and in order, the X-LIC-ERROR properties that libical
inserts while parsing (bad lines, values it cannot read) and while checking RFC 5545
restrictions (a missing PRODID/VERSION, DTEND together with DURATION, a VALARM without its
ACTION/TRIGGER, ...), each prefixed with the component that holds it. The exit code is 0 unless
libical itself cannot be loaded (2): the Python tests judge the results.
"""

from __future__ import annotations

import json
import subprocess
import sys


def _load():
    import gi

    gi.require_version("ICalGLib", "3.0")
    from gi.repository import ICalGLib

    return ICalGLib


def _version() -> str:
    """The libical package's version (GObject introspection does not expose it)."""
    try:
        done = subprocess.run(
            ["dpkg-query", "-W", "-f=${Version}", "libical3"],
            capture_output=True,
            text=True,
            check=False,
        )
    except OSError:
        return "unknown"
    return done.stdout.strip() or "unknown"


def _errors(ical, component, where: str, found: list[str]) -> None:
    kind = ical.Component.kind_to_string(component.isa())
    here = f"{where}/{kind}" if where else kind
    uid = component.get_uid() if kind in ("VEVENT", "VTODO", "VJOURNAL") else None
    if uid:
        here = f"{here}({uid})"
    error_kind = ical.PropertyKind.XLICERROR_PROPERTY
    prop = component.get_first_property(error_kind)
    while prop is not None:
        parameter = prop.get_first_parameter(ical.ParameterKind.XLICERRORTYPE_PARAMETER)
        error_type = parameter.as_ical_string().partition("=")[2] if parameter else "ERROR"
        message = f"{here}: {error_type}: {prop.get_xlicerror()}"
        if message not in found:
            found.append(message)
        prop = component.get_next_property(error_kind)
    any_kind = ical.ComponentKind.ANY_COMPONENT
    child = component.get_first_component(any_kind)
    while child is not None:
        _errors(ical, child, here, found)
        child = component.get_next_component(any_kind)


def check(ical, path: str) -> dict[str, object]:
    result: dict[str, object] = {"file": path, "ok": False, "errors": []}
    try:
        with open(path, "rb") as handle:
            data = handle.read()
    except OSError as exc:
        result["errors"] = [f"cannot read: {exc}"]
        return result
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        result["errors"] = [f"not valid UTF-8: {exc}"]
        return result
    component = ical.Parser.parse_string(text)
    if component is None:
        try:
            component = ical.Component.new_from_string(text)
        except TypeError:  # "constructor returned NULL"
            component = None
    if component is None:
        result["errors"] = ["libical could not parse the file at all"]
        return result
    errors: list[str] = []
    kind = ical.Component.kind_to_string(component.isa())
    if kind != "VCALENDAR":
        errors.append(f"top-level component is {kind}, not VCALENDAR")
    # Parse errors: X-LIC-ERROR properties the parser inserted where a line was bad.
    _errors(ical, component, "", errors)
    if component.count_errors() and not errors:
        errors.append(f"count_errors() = {component.count_errors()} after parsing")
    # RFC 5545 restrictions: each failure adds an X-LIC-ERROR of type INVALID-ITIP.
    before = len(errors)
    passed = component.check_restrictions()
    _errors(ical, component, "", errors)
    if not passed and len(errors) == before:
        errors.append("check_restrictions() failed")
    result["errors"] = errors
    result["ok"] = not errors
    return result


def main(paths: list[str]) -> int:
    try:
        ical = _load()
    except (ImportError, ValueError) as exc:
        print(f"libical_check: cannot load ICalGLib 3.0 through gi: {exc}", file=sys.stderr)
        return 2
    version = _version()
    for path in paths:
        result = check(ical, path)
        result["libical"] = version
        print(json.dumps(result, ensure_ascii=False))
    sys.stdout.flush()
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
