#!/usr/bin/env node
// Parses each .ics file named on the command line with ical.js (the parser of Thunderbird) and
// prints one JSON line per file:
//
//   {"file", "ok", "error", "components": {"VEVENT", "VTODO", "VTIMEZONE"}, "missing": [...],
//    "line_problems": [...], "problems": [...], "icaljs": "<version>"}
//
// - ok/error: whether ICAL.parse + new ICAL.Component (and reading every event's dates) worked;
// - missing: required properties that are absent ("VCALENDAR: PRODID", "VEVENT #2 (uid): DTSTAMP");
// - line_problems: raw-text checks ical.js is too lenient to make: every line ends with CRLF,
//   no line is longer than 75 octets (RFC 5545 §3.1), the text is valid UTF-8;
// - problems: other RFC 5545 faults (root not VCALENDAR, DTEND with DURATION, DUE with
//   DURATION, DUE not later than DTSTART, an alarm relative to a date its component lacks, a
//   TZID without its VTIMEZONE, an X-PUBLISHED-TTL or REFRESH-INTERVAL that is not a DURATION).
//
// The exit code is always 0: the Python tests judge the results.

import { readFileSync } from "node:fs";

import ICAL from "ical.js";

const VERSION = JSON.parse(
  readFileSync(new URL("./node_modules/ical.js/package.json", import.meta.url), "utf-8"),
).version;
const MAX_OCTETS = 75;
const COUNTED = ["VEVENT", "VTODO", "VTIMEZONE"];
// RFC 5545 §3.3.6 dur-value: what Outlook (X-PUBLISHED-TTL) and RFC 7986 clients
// (REFRESH-INTERVAL) expect; ical.js keeps an unknown X- property as text and never checks it.
const DURATION = /^[+-]?P(\d+W|\d+D(T(\d+H(\d+M(\d+S)?)?|\d+M(\d+S)?|\d+S))?|T(\d+H(\d+M(\d+S)?)?|\d+M(\d+S)?|\d+S))$/;
const DURATION_PROPERTIES = ["x-published-ttl", "refresh-interval"];
const REQUIRED = {
  VCALENDAR: ["prodid", "version"],
  VEVENT: ["uid", "dtstamp"],
  VTODO: ["uid", "dtstamp"],
};

function lineProblems(bytes) {
  const problems = [];
  try {
    new TextDecoder("utf-8", { fatal: true }).decode(bytes);
  } catch {
    problems.push("text is not valid UTF-8 (a fold may split a multi-byte character)");
  }
  let start = 0;
  let number = 0;
  while (start < bytes.length) {
    number += 1;
    const newline = bytes.indexOf(0x0a, start);
    const end = newline === -1 ? bytes.length : newline;
    const crlf = newline !== -1 && end > start && bytes[end - 1] === 0x0d;
    const content = bytes.subarray(start, crlf ? end - 1 : end);
    if (!crlf) {
      problems.push(
        newline === -1
          ? `line ${number}: last line has no CRLF line ending`
          : `line ${number}: ends with a bare LF instead of CRLF`,
      );
    }
    if (content.includes(0x0d)) {
      problems.push(`line ${number}: contains a bare CR`);
    }
    if (content.length > MAX_OCTETS) {
      problems.push(`line ${number}: ${content.length} octets (more than ${MAX_OCTETS})`);
    }
    start = end + 1;
  }
  if (bytes.length === 0) {
    problems.push("file is empty");
  }
  return problems;
}

function label(component, index) {
  const uid = component.getFirstPropertyValue("uid");
  const name = component.name.toUpperCase();
  return uid ? `${name} #${index} (${uid})` : `${name} #${index}`;
}

function walk(component, visit) {
  visit(component);
  for (const sub of component.getAllSubcomponents()) {
    walk(sub, visit);
  }
}

function checkCalendar(root, result) {
  ICAL.TimezoneService.reset(); // a file must not borrow another file's VTIMEZONEs
  const name = root.name.toUpperCase();
  if (name !== "VCALENDAR") {
    result.problems.push(`top-level component is ${name}, not VCALENDAR`);
  }
  const zones = new Set();
  const usedZones = new Set();
  const seen = {};
  walk(root, (component) => {
    const kind = component.name.toUpperCase();
    if (COUNTED.includes(kind)) {
      result.components[kind] += 1;
    }
    seen[kind] = (seen[kind] ?? 0) + 1;
    const where = kind === "VCALENDAR" ? "VCALENDAR" : label(component, seen[kind]);
    for (const property of REQUIRED[kind] ?? []) {
      if (!component.hasProperty(property)) {
        result.missing.push(`${where}: ${property.toUpperCase()}`);
      }
    }
    if (kind === "VTIMEZONE") {
      const tzid = component.getFirstPropertyValue("tzid");
      zones.add(tzid);
      ICAL.TimezoneService.register(new ICAL.Timezone(component));
    }
    for (const property of component.getAllProperties()) {
      const tzid = property.getParameter("tzid");
      if (tzid) {
        usedZones.add(tzid);
      }
    }
    for (const name of DURATION_PROPERTIES) {
      for (const property of component.getAllProperties(name)) {
        const value = String(property.getFirstValue());
        if (!DURATION.test(value)) {
          result.problems.push(`${where}: ${name.toUpperCase()}:${value} is not a DURATION`);
        }
      }
    }
    if (kind === "VEVENT" && component.hasProperty("dtend") && component.hasProperty("duration")) {
      result.problems.push(`${where}: both DTEND and DURATION`);
    }
    if (kind === "VTODO" && component.hasProperty("due") && component.hasProperty("duration")) {
      result.problems.push(`${where}: both DUE and DURATION`);
    }
    if (kind === "VTODO" && component.hasProperty("due") && component.hasProperty("dtstart")) {
      // RFC 5545 §3.8.2.3: DUE MUST be later in time than DTSTART
      const start = component.getFirstPropertyValue("dtstart");
      const due = component.getFirstPropertyValue("due");
      if (due.compare(start) <= 0) {
        result.problems.push(`${where}: DUE ${due} is not later than DTSTART ${start}`);
      }
    }
    if (kind === "VALARM") {
      // RFC 5545 §3.8.6.3: a trigger relative to START needs DTSTART in its component, one
      // relative to END needs DTEND (VEVENT) or DUE (VTODO), or DTSTART and DURATION
      const trigger = component.getFirstProperty("trigger");
      const parent = component.parent;
      if (trigger && parent && trigger.type === "duration") {
        const related = (trigger.getParameter("related") ?? "START").toUpperCase();
        const end = parent.name === "vtodo" ? "due" : "dtend";
        const ok =
          related === "START"
            ? parent.hasProperty("dtstart")
            : parent.hasProperty(end) ||
              (parent.hasProperty("dtstart") && parent.hasProperty("duration"));
        if (!ok) {
          result.problems.push(`${where}: TRIGGER related to ${related} without the date it needs`);
        }
      }
    }
  });
  for (const tzid of usedZones) {
    if (!zones.has(tzid)) {
      result.problems.push(`TZID=${tzid} is used but no VTIMEZONE defines it`);
    }
  }
  // Read every date the way Thunderbird does, now that the time zones are registered.
  for (const vevent of root.getAllSubcomponents("vevent")) {
    const event = new ICAL.Event(vevent);
    event.startDate?.toJSDate();
    event.endDate?.toJSDate();
    void event.duration;
  }
  for (const vtodo of root.getAllSubcomponents("vtodo")) {
    vtodo.getFirstPropertyValue("dtstart")?.toJSDate();
    vtodo.getFirstPropertyValue("due")?.toJSDate();
  }
  // What ical.js writes back must parse again.
  ICAL.parse(root.toString());
}

function validate(file) {
  const result = {
    file,
    ok: false,
    error: null,
    components: Object.fromEntries(COUNTED.map((kind) => [kind, 0])),
    missing: [],
    line_problems: [],
    problems: [],
    icaljs: VERSION,
  };
  let bytes;
  try {
    bytes = readFileSync(file);
  } catch (error) {
    result.error = `cannot read: ${error.message}`;
    return result;
  }
  result.line_problems = lineProblems(bytes);
  try {
    const jcal = ICAL.parse(bytes.toString("utf-8"));
    // Several top-level components come back as a list of jCal components.
    const roots = typeof jcal[0] === "string" ? [jcal] : jcal;
    if (roots.length !== 1) {
      result.problems.push(`${roots.length} top-level components, expected one VCALENDAR`);
    }
    for (const root of roots) {
      checkCalendar(new ICAL.Component(root), result);
    }
    result.ok = true;
  } catch (error) {
    result.error = `${error.name}: ${error.message}`;
  }
  return result;
}

for (const file of process.argv.slice(2)) {
  process.stdout.write(`${JSON.stringify(validate(file))}\n`);
}
process.exitCode = 0;
