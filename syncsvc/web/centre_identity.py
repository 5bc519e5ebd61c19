"""A centre's identity and contacts (name, time zone, addresses, the State's service), edited
from the « Centres » page, and a new centre (administrators only).

Editing goes in two steps: the form is checked by the loader (the same French problems as
``syncsvc validate``, shown next to their field) and a preview says what changes for people
(« les réponses du jury iront à … »); confirming writes ``centres.yaml`` through
:meth:`syncsvc.app.authoring.Authoring.save_centres` (version-checked, audited). Creating a
centre is written at once (nothing depends on it yet).

Who: see :func:`refused_edit` — an administrator changes every centre, a coordinator the centres
of its account (every centre when its account lists none), a viewer nothing.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Final, Literal
from urllib.parse import quote

from starlette.responses import RedirectResponse, Response
from starlette.routing import Route

from syncsvc.app.mailboxes import mailbox_warnings
from syncsvc.app.preview import SessionMoves, centre_moves
from syncsvc.core.labels import KIND_LABELS, ROLE_LABELS, capitalised, fr_date
from syncsvc.core.model import CENTRE_ID_PATTERN, Centre
from syncsvc.core.rules import Ruleset, customise
from syncsvc.core.rules.applicability import CENTRE_OPTION_LABELS
from syncsvc.core.words import words_for
from syncsvc.errors import ConfigError, Problem
from syncsvc.inputs.loader import check_centres_file
from syncsvc.inputs.writer import WriteConflict, WriteRefused, merge, plain, read_draft, render
from syncsvc.web import centre_rules
from syncsvc.web.common import Context, Form, Web, action, log, page
from syncsvc.web.config_forms import authoring, conflict_page, fresh_config

PATH: Final = "/centres"


@dataclass(frozen=True)
class Field:
    name: str
    label: str
    hint: str = ""
    choices: tuple[tuple[str, str], ...] = ()
    required: bool = False
    kind: Literal["text", "yes_no", "people", "advice", "overrides", "extra"] = "text"
    """``yes_no``: a true/false key shown as « oui »/« non »; ``people``: a list of persons, one
    « Nom, adresse » a line; ``advice``: the advice rules the centre turns off
    (``rules.disable``), one box a rule, the value their ids separated by spaces;
    ``overrides``: the centre's own deadlines and reminder days (``rules.overrides``), one line
    a milestone; ``extra``: the centre's own rules (``rules.extra``), one block a rule (both:
    :mod:`syncsvc.web.centre_rules`)."""


ZONES: Final = (
    ("metropole", "Métropole"),
    ("alsace-moselle", "Alsace-Moselle (Vendredi saint, 26 décembre)"),
    ("971", "Guadeloupe (971)"),
    ("972", "Martinique (972)"),
    ("973", "Guyane (973)"),
    ("974", "La Réunion (974)"),
    ("976", "Mayotte (976)"),
)
SECTORS: Final = (("btp", "BTP"), ("industrie", "Industrie"), ("tertiaire", "Tertiaire"))
YES_NO: Final = (("oui", "Oui"), ("non", "Non"))

FIELDS: Final = (
    Field("name", "Nom du centre", "ex. AFPA Strasbourg", required=True),
    Field("short_name", "Nom court", "facultatif, 30 caractères au plus (vues mensuelles)"),
    Field("timezone", "Fuseau horaire", "nom IANA, ex. Europe/Paris, Indian/Reunion"),
    Field("holiday_zone", "Jours fériés", choices=ZONES),
    Field("sector", "Secteur", choices=SECTORS, required=True),
    Field(
        "exam_office_email",
        "Adresse du service examens",
        "citée dans les rappels et les e-mails du centre",
        required=True,
    ),
    Field(
        "organizer",
        "Organisateur des invitations du jury",
        "facultatif : l'adresse où arrivent les réponses du jury (vide : celle du service examens)",
    ),
    Field("ud_name", "Service de l'État (DDETS, DEETS…)", "facultatif, sans article"),
    Field("ud_email", "Adresse du service de l'État", required=True),
    Field("address", "Adresse du site", "facultatif, sur une ligne"),
    Field("phone", "Téléphone", "facultatif, ex. 03 88 00 00 00"),
    Field(
        "management",
        "Direction du centre",
        "une personne par ligne, « Prénom Nom, adresse e-mail » ou « Prénom Nom, adresse "
        "e-mail, téléphone » : elle reçoit les rappels adressés à la direction et le "
        "récapitulatif de la semaine",
        kind="people",
    ),
    Field(
        "working_day_shift",
        "Échéances sur un jour ouvré",
        "« oui » : une échéance qui tombe un samedi, un dimanche ou un jour férié est déplacée "
        "au jour ouvré voisin (avant l'échéance, ou après pour ce qui suit un événement)",
        choices=YES_NO,
        kind="yes_no",
    ),
    Field(
        "candidate_info_mail",
        capitalised(CENTRE_OPTION_LABELS["candidate_info_mail"]),
        "« oui » : les candidats inscrits avec une adresse reçoivent, quelques jours avant la "
        "session, ce qu'ils doivent apporter",
        choices=YES_NO,
        kind="yes_no",
    ),
    Field(
        "rules",
        "Conseils suivis par le centre",
        "décocher un conseil le retire des calendriers et des rappels des sessions du centre ; "
        "les échéances réglementaires s'appliquent toujours",
        kind="advice",
    ),
    Field(
        "overrides",
        "Échéances et rappels propres au centre",
        "une case vide garde la valeur du jeu de règles ; une échéance réglementaire peut être "
        "avancée, jamais retardée ; jours de rappel : nombres de jours avant l'échéance séparés "
        "par des virgules (« aucun » : pas de rappel)",
        kind="overrides",
    ),
    Field(
        "extra",
        "Règles propres au centre",
        "une étape que le centre ajoute à chacune de ses sessions (calendriers, rappels) ; "
        "remplir le dernier bloc pour en ajouter une, cocher « Retirer » pour l'enlever",
        kind="extra",
    ),
)
RULES_KEYS: Final = {"rules": "disable", "overrides": "overrides", "extra": "extra"}
"""Fields written under the centre's ``rules`` key, and their key there."""
NAMES: Final = tuple(f.name for f in FIELDS)
KINDS: Final = {f.name: f.kind for f in FIELDS}
LABELS: Final = {f.name: f.label for f in FIELDS} | {"id": "Clé du centre"}


def refused_edit(web: Web, ctx: Context, centre_id: str) -> Response | None:
    """A 403 page when this user may not change the centre ``centre_id`` (a viewer, or a
    coordinator whose account lists other centres), else None."""
    if ctx.user.may_change(centre_id):
        return None
    request = ctx.request
    log.warning(
        "%s %s 403 : %s ne peut pas modifier le centre %s",
        request.method,
        request.url.path,
        ctx.user.login,
        centre_id,
    )
    if not ctx.user.can_act:
        body = (
            "Votre compte permet de consulter les centres, pas de les modifier : demandez à un "
            "coordinateur ou à un administrateur."
        )
        return web.error(request, 403, "Action réservée", body, ctx)
    body = (
        "Votre compte permet de modifier vos centres seulement, pas celui-ci : demandez à son "
        "coordinateur ou à un administrateur."
    )
    return web.error(request, 403, "Centre d'un autre coordinateur", body, ctx)


def refused_unless_admin(web: Web, ctx: Context, what: str) -> Response | None:
    """A 403 page for anyone but an administrator (``what``: « ajouter un centre »…)."""
    if ctx.user.admin:
        return None
    request = ctx.request
    log.warning(
        "%s %s 403 : %s n'est pas administrateur", request.method, request.url.path, ctx.user.login
    )
    body = f"Seul un administrateur peut {what} : demandez-le à un administrateur."
    return web.error(request, 403, "Action réservée", body, ctx)


def shown_values(centre: Centre, ruleset: Ruleset) -> dict[str, str]:
    """What the form shows for a centre: the values as written (defaults where they count)."""
    return {
        "name": centre.name,
        "short_name": centre.written_short_name or "",
        "timezone": centre.timezone,
        "holiday_zone": centre.holiday_zone,
        "sector": centre.sector,
        "exam_office_email": centre.exam_office_email,
        "organizer": centre.organizer or "",
        "ud_name": centre.written_ud_name or "",
        "ud_email": centre.ud_email,
        "address": centre.address or "",
        "phone": centre.phone or "",
        "management": "\n".join(
            f"{p.name}, {p.email}" + (f", {p.phone}" if p.phone else "") for p in centre.management
        ),
        "working_day_shift": _yes_no(centre.working_day_shift),
        "candidate_info_mail": _yes_no(centre.candidate_info_mail),
        "rules": " ".join(centre.rules.disable),
        "overrides": centre_rules.shown(centre.rules, ruleset),
        "extra": centre_rules.extra_shown(centre.rules),
    }


def _yes_no(value: bool) -> str:
    return "oui" if value else "non"


def _posted(form: Form, ruleset: Ruleset) -> dict[str, str]:
    """The form's values, spaces tidied (a list of people keeps one person a line)."""
    out = {}
    for name in NAMES:
        if KINDS[name] == "overrides" and "overrides-shown" in form:  # the boxes
            out[name] = centre_rules.posted(form, ruleset)
            continue
        if KINDS[name] == "extra" and "extra-shown" in form:  # the blocks
            out[name] = centre_rules.extra_posted(form, tuple(ROLE_LABELS))
            continue
        if KINDS[name] == "advice" and "rules-shown" in form:  # the boxes, not the preview's
            out[name] = " ".join(
                rule_id
                for rule_id in form["rules-shown"].split()
                if form.get(f"follow-{rule_id}") != "1"
            )
            continue
        lines = (" ".join(line.split()) for line in form.get(name, "").splitlines())
        if KINDS[name] == "people":
            out[name] = "\n".join(line for line in lines if line)
        elif KINDS[name] in ("overrides", "extra"):
            out[name] = form.get(name, "")
        else:
            out[name] = " ".join(form.get(name, "").split())
    return out


def _person(line: str) -> dict[str, str]:
    """« Prénom Nom, adresse[, téléphone] » as a person's entry; a line without comma is a name
    alone (the loader then asks for the address)."""
    parts = [part.strip() for part in line.split(",")]
    if len(parts) >= 3 and "@" in parts[-2] and "@" not in parts[-1]:
        return {"name": ", ".join(parts[:-2]), "email": parts[-2], "phone": parts[-1]}
    if len(parts) >= 2:
        return {"name": ", ".join(parts[:-1]), "email": parts[-1]}
    return {"name": line}


def _people(text: str, written: Any) -> list[Any]:
    """« Nom, adresse[, téléphone] » lines as the entries of ``management``: a person already
    written with the same name and address keeps its entry (other keys, its place), its phone
    set or removed as the line says."""
    kept = {
        (str(p.get("name", "")), str(p.get("email", ""))): p
        for p in (written if isinstance(written, list) else [])
        if isinstance(p, dict)
    }
    people: list[Any] = []
    for line in text.splitlines():
        person = _person(line)
        entry = kept.get((person["name"], person.get("email", "")))
        if entry is None:
            people.append(person)
            continue
        if str(entry.get("phone") or "") != person.get("phone", ""):
            entry = dict(entry)
            entry.pop("phone", None)
            if person.get("phone"):
                entry["phone"] = person["phone"]
        people.append(entry)
    return people


def _in_words(
    name: str, value: str, advice: dict[str, str], ruleset: Ruleset, words: dict[str, str]
) -> str:
    """A form value as the preview shows it: the advice rules followed, by title; the
    centre's own deadlines and reminders, one milestone a line."""
    if KINDS[name] == "overrides":
        return centre_rules.described(value, ruleset, words)
    if KINDS[name] == "extra":
        return centre_rules.extra_described(value, ROLE_LABELS)
    if KINDS[name] != "advice":
        return value
    off = value.split()
    return "\n".join(title for rule_id, title in advice.items() if rule_id not in off) or "aucun"


def _written_value(name: str, text: str, written: Any, ruleset: Ruleset) -> Any:
    """The YAML value of a form field (``written``: what the file holds now; under ``rules``
    for the rules' fields)."""
    match KINDS[name]:
        case "overrides":
            return centre_rules.written(text, written, ruleset)
        case "extra":
            return centre_rules.extra_written(text, written, ruleset)
        case "yes_no":
            return {"oui": True, "non": False}.get(text, text)
        case "people":
            return _people(text, written)
        case "advice":
            return text.split()
    return text


def _block(
    written: dict[str, Any], before: dict[str, str], after: dict[str, str], ruleset: Ruleset
) -> dict[str, Any]:
    """The centre's block with the form's values: a field left as shown stays as written, a
    field emptied is removed (its default applies, or the loader says it is required). The
    rules' fields each change their own key under ``rules``, the others stay."""
    block = dict(written)
    for name in NAMES:
        if after[name] == before[name]:
            continue
        if name in RULES_KEYS:
            old = block.get("rules")
            rules = dict(old) if isinstance(old, dict) else {}
            key = RULES_KEYS[name]
            value = _written_value(name, after[name], rules.get(key), ruleset)
            if value:
                rules[key] = value
            else:
                rules.pop(key, None)
            if rules:
                block["rules"] = rules
            else:
                block.pop("rules", None)
            continue
        if after[name]:
            block[name] = _written_value(name, after[name], written.get(name), ruleset)
        else:
            block.pop(name, None)
    return block


def _errors(problems: list[Problem], centre_id: str) -> tuple[dict[str, str], list[Problem]]:
    """The problems of this centre by form field, and the others."""
    errors: dict[str, str] = {}
    others: list[Problem] = []
    prefix = f"{centre_id}."
    for problem in problems:
        own = re.match(r"rules\.overrides\.([a-z][a-z0-9_]*)", problem.field.removeprefix(prefix))
        if problem.field.startswith(prefix) and own:
            errors.setdefault(f"overrides.{own.group(1)}", problem.message)
            continue
        extra = re.match(r"rules\.extra\[(\d+)\]", problem.field.removeprefix(prefix))
        if problem.field.startswith(prefix) and extra:
            errors.setdefault(f"extra.{extra.group(1)}", problem.message)
            continue
        name = problem.field.removeprefix(prefix).split(".", 1)[0].split("[", 1)[0]
        if problem.field.startswith(prefix) and name in LABELS:
            line = re.match(r"[a-z_]+[.\[](\d+)", problem.field.removeprefix(prefix))
            if name in KINDS and KINDS[name] == "people" and line:
                errors.setdefault(name, f"ligne {line.group(1)} : {problem.message}")
            errors.setdefault(name, problem.message)
        else:
            others.append(problem)
    return errors, others


def _form(
    web: Web,
    ctx: Context,
    *,
    centre: Centre | None,
    values: dict[str, str],
    version: str,
    errors: dict[str, str] | None = None,
    others: list[Problem] | None = None,
    status_code: int = 200,
) -> Response:
    ruleset = fresh_config(web).ruleset
    words = words_for(centre) if centre is not None else centre_rules.SERVICE_WORDS
    return web.html(
        ctx.request,
        "centre_form.j2",
        status_code=status_code,
        ctx=ctx,
        centre=centre,
        v=values,
        fields=FIELDS,
        advice=advice_rules(web),
        override_lines=centre_rules.lines(ruleset, words),
        boxes=centre_rules.decoded(values.get("overrides", "")),
        extras=centre_rules.extra_decoded(values.get("extra", "")),
        roles=ROLE_LABELS,
        anchors=centre_rules.ANCHOR_CHOICES,
        kinds=KIND_LABELS,
        version=version,
        errors=errors or {},
        others=others or [],
    )


def advice_rules(web: Web) -> dict[str, str]:
    """The title of each advice rule of the shipped ruleset, by id: the ones a centre may turn
    off (``rules.disable``)."""
    return {r.id: r.title for r in fresh_config(web).ruleset.rules if r.kind == "advice"}


def centre_of(web: Web, ctx: Context) -> Centre | Response:
    """The centre the path names (``centre_id``), else the 503 or 404 page."""
    centre_id = ctx.request.path_params["centre_id"]
    try:
        centre = fresh_config(web).centres.get(centre_id)
    except ConfigError as exc:
        return web.error(ctx.request, 503, "Configuration illisible", str(exc), ctx)
    if centre is None:
        return web.error(
            ctx.request, 404, "Centre introuvable", "Aucun centre valide ne porte cette clé.", ctx
        )
    return centre


def centres_unreadable(web: Web, ctx: Context) -> Response | None:
    """A 409 page when centres.yaml does not read (it is mended in the file first), else None."""
    config = fresh_config(web)
    path = config.directory / "centres.yaml"
    if any(p.file == str(path) and not p.field for p in config.problems):
        return web.error(
            ctx.request,
            409,
            "centres.yaml illisible",
            "centres.yaml ne se lit pas (voir les problèmes sur le tableau de bord) : le "
            "corriger dans le fichier avant de le modifier ici.",
            ctx,
        )
    return None


@page
def edit_page(web: Web, ctx: Context) -> Response:
    centre = centre_of(web, ctx)
    if isinstance(centre, Response):
        return centre
    refused = refused_edit(web, ctx, centre.id) or centres_unreadable(web, ctx)
    if refused is not None:
        return refused
    draft = read_draft(fresh_config(web).directory / "centres.yaml")
    values = shown_values(centre, fresh_config(web).ruleset)
    return _form(web, ctx, centre=centre, values=values, version=draft.version)


@dataclass(frozen=True)
class Consequence:
    """One sentence of the preview: what people will see differently."""

    text: str
    warning: bool = False


def _management_news(before: Centre, after: Centre) -> list[Consequence]:
    """Who starts or stops receiving what is addressed to the centre's management."""
    was = {p.email: p.name for p in before.management}
    will = {p.email: p.name for p in after.management}
    out = [
        Consequence(
            f"{name} ({email}) recevra les rappels adressés à la direction du centre et le "
            "récapitulatif de la semaine."
        )
        for email, name in will.items()
        if email not in was
    ]
    out += [
        Consequence(
            f"{name} ({email}) ne recevra plus les rappels adressés à la direction du centre "
            "ni le récapitulatif de la semaine."
        )
        for email, name in was.items()
        if email not in will
    ]
    if before.management and not after.management:
        out.append(
            Consequence(
                "Le centre n'aura plus de direction déclarée : personne ne recevra les rappels "
                "qui lui sont adressés.",
                warning=True,
            )
        )
    return out


def _moves_text(news: SessionMoves) -> str:
    """« Session … : « Commander les DTE » avancée du 15/03/2027 au 12/03/2027, … »."""
    parts = []
    for move in news.moves:
        if move.before is None:
            parts.append(f"« {move.title} » s'ajoute (le {fr_date(move.after)})")
        elif move.after is None:
            parts.append(f"« {move.title} » ne s'applique plus (était le {fr_date(move.before)})")
        else:
            parts.append(
                f"« {move.title} » passe du {fr_date(move.before)} au {fr_date(move.after)}"
            )
    return f"Session {news.session.id} : " + " ; ".join(parts) + "."


def consequences(
    web: Web, before: Centre, after: Centre, sessions: int, moves: Sequence[SessionMoves] = ()
) -> list[Consequence]:
    """What the change means for the people who receive this centre's messages; ``moves``:
    the milestones of its sessions that move, start or stop applying."""
    out: list[Consequence] = []
    if after.organizer_email != before.organizer_email:
        out.append(
            Consequence(
                f"Les prochaines invitations du jury de ce centre auront pour organisateur "
                f"{after.organizer_email} (au lieu de {before.organizer_email}) : les réponses "
                "des membres du jury iront à cette adresse."
            )
        )
        for warning in mailbox_warnings(fresh_config(web), web.settings, {after.id: after}):
            out.append(Consequence(f"Attention : {warning.message}.", warning=True))
    if after.exam_office_email != before.exam_office_email:
        out.append(
            Consequence(
                f"Les rappels et les e-mails de ce centre citeront {after.exam_office_email} "
                f"comme adresse du service examens (au lieu de {before.exam_office_email})."
            )
        )
    if (after.ud_name, after.ud_email) != (before.ud_name, before.ud_email):
        out.append(
            Consequence(
                f"Les jalons qui s'adressent au service de l'État diront « la {after.ud_name} "
                f"({after.ud_email}) » (au lieu de « la {before.ud_name} "
                f"({before.ud_email}) »)."
            )
        )
    if (after.name, after.short_name) != (before.name, before.short_name):
        out.append(
            Consequence(
                f"Les calendriers et les e-mails nommeront le centre « {after.name} » "
                f"(« {after.short_name} » dans les vues mensuelles)."
            )
        )
    if after.timezone != before.timezone:
        out.append(
            Consequence(
                f"Les heures des sessions de ce centre seront celles du fuseau {after.timezone} "
                f"(au lieu de {before.timezone}) dans les calendriers, les rappels et les pages.",
                warning=True,
            )
        )
    if after.holiday_zone != before.holiday_zone:
        label = dict(ZONES)[after.holiday_zone]
        out.append(
            Consequence(
                f"Les échéances tiendront compte des jours fériés : {label} (au lieu de "
                f"{dict(ZONES)[before.holiday_zone]})."
            )
        )
    if (after.address, after.phone) != (before.address, before.phone):
        out.append(
            Consequence("Les invitations et les e-mails citeront la nouvelle adresse du site.")
        )
    out += _management_news(before, after)
    if after.candidate_info_mail != before.candidate_info_mail:
        out.append(
            Consequence(
                "Les candidats inscrits avec une adresse e-mail recevront, quelques jours avant "
                "chaque session du centre, ce qu'ils doivent apporter."
                if after.candidate_info_mail
                else "Les candidats ne recevront plus de mail d'information avant les sessions "
                "du centre."
            )
        )
    if after.working_day_shift != before.working_day_shift:
        out.append(
            Consequence(
                "Une échéance qui tombe un samedi, un dimanche ou un jour férié sera déplacée "
                "au jour ouvré voisin."
                if after.working_day_shift
                else "Les échéances resteront au jour calculé, même un samedi, un dimanche ou "
                "un jour férié.",
                warning=not after.working_day_shift,
            )
        )
    for news in moves:
        out.append(Consequence(_moves_text(news)))
    if out and sessions:
        s = "s" if sessions > 1 else ""
        out.append(
            Consequence(
                f"{sessions} session{s} de ce centre ser{'ont' if s else 'a'} mise{s} à jour au "
                "prochain passage du service (calendriers, invitations du jury)."
            )
        )
    return out


@action
def save_edit(web: Web, ctx: Context, form: Form) -> Response:
    centre = centre_of(web, ctx)
    if isinstance(centre, Response):
        return centre
    refused = refused_edit(web, ctx, centre.id) or centres_unreadable(web, ctx)
    if refused is not None:
        return refused
    config = fresh_config(web)
    path = config.directory / "centres.yaml"
    version = form.get("version", "")
    ruleset = config.ruleset
    after = _posted(form, ruleset)
    before = shown_values(centre, ruleset)
    back = f"{PATH}/{quote(centre.id)}/modifier"
    if form.get("step") == "corriger":
        return _form(web, ctx, centre=centre, values=after, version=version)
    unread = centre_rules.problems(after["overrides"], ruleset)
    unread |= centre_rules.extra_problems(after["extra"])
    if unread:
        return _form(
            web, ctx, centre=centre, values=after, version=version, errors=unread, status_code=400
        )
    draft = read_draft(path)
    current = plain(draft.tree)
    values = {
        **current,
        centre.id: _block(current.get(centre.id) or {}, before, after, ruleset),
    }
    if form.get("step") != "confirmer":
        text = render(merge(read_draft(path).tree, values))
        if draft.version != version:
            return conflict_page(web, ctx, WriteConflict(path, draft.text, text), back)
        problems = check_centres_file(config, path, text.encode("utf-8"))
        if problems:
            errors, others = _errors(problems, centre.id)
            return _form(
                web,
                ctx,
                centre=centre,
                values=after,
                version=version,
                errors=errors,
                others=others,
                status_code=400,
            )
        changed = Centre.model_validate({"id": centre.id, **values[centre.id]})
        sessions = sum(1 for s in config.sessions.values() if s.centre == centre.id)
        marks = {key: mark.done_on for key, mark in web.store.done_mark_details().items()}
        moves = centre_moves(config, changed, marks, web.clock())
        advice = advice_rules(web)
        words = words_for(centre)
        rows = [
            (
                LABELS[name],
                _in_words(name, before[name], advice, ruleset, words),
                _in_words(name, after[name], advice, ruleset, words),
            )
            for name in NAMES
            if after[name] != before[name]
        ]
        old_rules = config.rulesets.get(centre.id, ruleset)
        new_rules, _ = customise(ruleset, changed.rules)
        reminders = centre_rules.reminder_news(old_rules, new_rules, words_for(changed))
        return web.html(
            ctx.request,
            "centre_preview.j2",
            ctx=ctx,
            centre=centre,
            v=after,
            version=version,
            rows=rows,
            consequences=[
                *consequences(web, centre, changed, sessions, moves),
                *(Consequence(text) for text in reminders),
            ],
        )
    try:
        authoring(web).save_centres(
            user=ctx.user.login, values=values, version=version, now=web.clock()
        )
    except WriteConflict as exc:
        return conflict_page(web, ctx, exc, back)
    except WriteRefused as exc:
        errors, others = _errors(list(exc.problems), centre.id)
        return _form(
            web,
            ctx,
            centre=centre,
            values=after,
            version=version,
            errors=errors,
            others=others,
            status_code=400,
        )
    web.source.invalidate()
    log.info("centres.yaml : coordonnées de %s enregistrées par %s", centre.id, ctx.user.login)
    return RedirectResponse(f"{PATH}?modifie={quote(centre.id)}#c-{centre.id}", 303)


_NEW_DEFAULTS: Final = dict.fromkeys(NAMES, "") | {
    "timezone": "Europe/Paris",
    "holiday_zone": "metropole",
    "working_day_shift": _yes_no(Centre.model_fields["working_day_shift"].default),
    "candidate_info_mail": _yes_no(Centre.model_fields["candidate_info_mail"].default),
}


@page
def new_page(web: Web, ctx: Context) -> Response:
    refused = refused_unless_admin(web, ctx, "ajouter un centre") or centres_unreadable(web, ctx)
    if refused is not None:
        return refused
    draft = read_draft(fresh_config(web).directory / "centres.yaml")
    return _form(web, ctx, centre=None, values={"id": "", **_NEW_DEFAULTS}, version=draft.version)


def _id_error(centre_id: str, taken: dict[str, str]) -> str | None:
    if not centre_id:
        return "clé obligatoire (attendu : minuscules, chiffres et tirets, ex. afpa-colmar)"
    if re.fullmatch(CENTRE_ID_PATTERN, centre_id) is None:
        return (
            f"clé « {centre_id} » mal formée (attendu : minuscules, chiffres et tirets, "
            "2 caractères au moins, ex. afpa-colmar)"
        )
    if centre_id in taken:
        return (
            f"clé « {centre_id} » déjà prise par le centre « {taken[centre_id]} » (attendu : "
            "une autre clé)"
        )
    return None


@action
def create(web: Web, ctx: Context, form: Form) -> Response:
    refused = refused_unless_admin(web, ctx, "ajouter un centre") or centres_unreadable(web, ctx)
    if refused is not None:
        return refused
    config = fresh_config(web)
    path = config.directory / "centres.yaml"
    version = form.get("version", "")
    centre_id = form.get("id", "").strip()
    after = _posted(form, config.ruleset)
    shown = {"id": centre_id, **after}
    draft = read_draft(path)
    current = plain(draft.tree) or {}
    taken = {
        str(k): str((v or {}).get("name", k)) for k, v in current.items() if isinstance(v, dict)
    }
    taken |= {k: str(k) for k in current if k not in taken}
    id_error = _id_error(centre_id, taken)
    if id_error:
        return _form(
            web,
            ctx,
            centre=None,
            values=shown,
            version=version,
            errors={"id": id_error},
            status_code=400,
        )
    unread = centre_rules.problems(after["overrides"], config.ruleset)
    unread |= centre_rules.extra_problems(after["extra"])
    if unread:
        return _form(
            web, ctx, centre=None, values=shown, version=version, errors=unread, status_code=400
        )
    block = _block({}, _NEW_DEFAULTS, after, config.ruleset)
    values = {**current, centre_id: block}
    try:
        authoring(web).save_centres(
            user=ctx.user.login, values=values, version=version, now=web.clock()
        )
    except WriteConflict as exc:
        return conflict_page(web, ctx, exc, f"{PATH}/nouveau")
    except WriteRefused as exc:
        errors, others = _errors(list(exc.problems), centre_id)
        return _form(
            web,
            ctx,
            centre=None,
            values=shown,
            version=version,
            errors=errors,
            others=others,
            status_code=400,
        )
    web.source.invalidate()
    log.info("centres.yaml : centre %s ajouté par %s", centre_id, ctx.user.login)
    return RedirectResponse(f"{PATH}?ajoute={quote(centre_id)}#c-{centre_id}", 303)


ROUTES = [
    Route(f"{PATH}/nouveau", new_page),
    Route(f"{PATH}/nouveau", create, methods=["POST"]),
    Route(f"{PATH}/{{centre_id}}/modifier", edit_page),
    Route(f"{PATH}/{{centre_id}}/modifier", save_edit, methods=["POST"]),
]
