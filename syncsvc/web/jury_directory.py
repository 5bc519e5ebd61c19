"""« Annuaire du jury » (``/annuaire-jury``): the jurors of ``config/jury.yaml``, the
habilitations that end within :data:`EXPIRY_WINDOW`, the sessions each juror sits on, and the
forms to add, change or retire a juror and to change a juror's address (administrators and
coordinators; a viewer reads only).

Not the session's « Jury » panel (:mod:`syncsvc.web.jury`), which follows the invitations.

- *Retiring* is refused while a session still to come (not cancelled) names the juror. Otherwise
  the entry leaves ``jury.yaml`` — unless a session (past or cancelled) takes the juror from the
  directory by address alone: removing the entry would make that session fail to load, so the
  entry stays, marked ``retired_on`` (hidden from the members, never offered again).
- *Reactivating* a juror so kept removes ``retired_on`` from the entry (the rest of the file as
  it was): the juror is back among the members and offered again for sessions.
- *Changing the address* (the key sessions refer to) rewrites ``jury.yaml`` and every session
  file naming the old address, all checked first then written (:func:`write_edits`). The
  invitations follow as for a juror replaced on a jury: CANCEL to the old address, REQUEST to the
  new one, for sessions still to come.
- *Roles*: a coordinator whose account lists ``centres`` may add jurors, and change, retire,
  reactivate or re-address only a juror whose sessions are all in those centres (or who sits on
  none); an administrator, or a coordinator without ``centres``, any juror.
- *Agendas personnels* (``[feeds] per_person = true``): the feed link of every person convened
  in a loaded session — juror, surveillant, comédien, in the directory or not — shown to those
  who may change one of the centres of that person's sessions, with « Nouveau lien » (the old
  link then answers 404; audited). A viewer sees neither links nor buttons: a link is a secret
  to give to its person only.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path
from typing import Any, Final
from urllib.parse import quote

from starlette.responses import RedirectResponse, Response
from starlette.routing import Route

from syncsvc.app.feeds import person_links, rotate_person
from syncsvc.core.audience import Convened, convened_people
from syncsvc.core.config import Config
from syncsvc.core.labels import fr_date
from syncsvc.core.model import DirectoryJuror, Session
from syncsvc.errors import ConfigError, Problem
from syncsvc.inputs.loader import JURY_FILE, check_jury_and_sessions, check_jury_file
from syncsvc.inputs.writer import (
    Draft,
    Edit,
    PartialWrite,
    WriteConflict,
    WriteRefused,
    plain,
    read_draft,
)
from syncsvc.state.audit import AuditEntry
from syncsvc.web.auth import User
from syncsvc.web.common import Context, Form, Web, action, log, page
from syncsvc.web.config_forms import (
    authoring,
    by_field,
    conflict_page,
    day_message,
    day_or_text,
    fresh_config,
    items,
    may_edit,
    saved,
)

EXPIRY_WINDOW: Final = timedelta(days=90)
PATH: Final = "/annuaire-jury"
FIELDS: Final = ("email", "name", "phone", "company", "titles", "ccp", "habilitation_until")


@dataclass(frozen=True, slots=True)
class Row:
    juror: DirectoryJuror
    sessions: list[Session]
    expired: bool


def _today(web: Web, ctx: Context) -> date:
    """The reader's day (the directory is no one centre's)."""
    return web.clock().astimezone(web.reader_zone(ctx.user)).date()


def _sittings(config: Config) -> dict[str, list[Session]]:
    """The sessions naming each juror's address, earliest first."""
    sits: dict[str, list[Session]] = {}
    for session in sorted(config.sessions.values(), key=lambda s: (s.start, s.id)):
        for member in session.jury:
            sits.setdefault(member.email, []).append(session)
    return sits


def _rows(config: Config, today: date) -> list[Row]:
    sits = _sittings(config)
    jurors = sorted(config.jury.jurors.values(), key=lambda j: (j.name.casefold(), j.email))
    return [Row(j, sits.get(j.email, []), j.habilitation_until < today) for j in jurors]


@dataclass(frozen=True, slots=True)
class PersonFeed:
    person: Convened
    link: str


def _sees_feed(user: User, person: Convened) -> bool:
    """Whether ``user`` sees (and may renew) the person's feed link: they may change one of
    the centres of the person's sessions (an administrator, a coordinator of all centres or
    of one of those); a viewer never."""
    return user.can_act and any(user.may_change(c) for c in person.centres)


def _person_feeds(web: Web, ctx: Context, config: Config) -> list[PersonFeed]:
    people = [
        p for p in convened_people(config.sessions.values()).values() if _sees_feed(ctx.user, p)
    ]
    links = person_links(web.settings, web.store, (p.email for p in people), web.clock())
    return [PersonFeed(p, links[p.email]) for p in people]


def _upcoming(session: Session, today: date) -> bool:
    """Still to come (or under way) and not cancelled."""
    return session.cancelled is None and session.end >= today


@page
def directory(web: Web, ctx: Context) -> Response:
    try:
        config = fresh_config(web)
    except ConfigError as exc:
        return web.error(ctx.request, 503, "Configuration illisible", str(exc), ctx)
    today = _today(web, ctx)
    everyone = _rows(config, today)
    rows = [r for r in everyone if r.juror.retired_on is None]
    retired = [r for r in everyone if r.juror.retired_on is not None]
    horizon = today + EXPIRY_WINDOW
    expiring = sorted(
        (r for r in rows if today <= r.juror.habilitation_until <= horizon),
        key=lambda r: (r.juror.habilitation_until, r.juror.name.casefold()),
    )
    file = str(config.directory / JURY_FILE)
    query = ctx.request.query_params
    saved_email = query.get("enregistre")
    flash = f"{saved_email} est enregistré(e) dans l'annuaire." if saved_email else None
    if query.get("retire"):
        flash = f"{query['retire']} est retiré(e) de l'annuaire." + (
            " Son entrée reste dans jury.yaml, marquée retirée : des sessions passées ou "
            "annulées la citent par son adresse."
            if query.get("garde")
            else ""
        )
    if query.get("reactive"):
        flash = (
            f"{query['reactive']} est réactivé(e) : de nouveau parmi les membres, et proposé(e) "
            "pour les sessions."
        )
    if query.get("adresse"):
        flash = f"Adresse changée : {query.get('ancienne', '')} → {query['adresse']}."
    if query.get("nouveau_lien"):
        flash = (
            f"Nouveau lien d'agenda pour {query['nouveau_lien']} : l'ancien ne fonctionne plus. "
            "Transmettez-lui le nouveau."
        )
    per_person = web.settings.feeds.per_person
    return web.html(
        ctx.request,
        "jury_directory.j2",
        ctx=ctx,
        rows=rows,
        retired=retired,
        expiring=expiring,
        today=today,
        horizon=horizon,
        window=EXPIRY_WINDOW.days,
        exists=config.jury.exists,
        problems=[p for p in config.problems if p.file == file],
        warnings=config.warnings,
        flash=flash,
        version=read_draft(web.source.config_dir / JURY_FILE).version if retired else "",
        per_person=per_person,
        person_feeds=_person_feeds(web, ctx, config) if per_person else [],
    )


def _form_values(juror: DirectoryJuror | None) -> dict[str, str]:
    if juror is None:
        return dict.fromkeys(FIELDS, "")
    return {
        "email": juror.email,
        "name": juror.name,
        "phone": juror.phone or "",
        "company": juror.company or "",
        "titles": ", ".join(juror.titles),
        "ccp": ", ".join(juror.ccp),
        "habilitation_until": fr_date(juror.habilitation_until),
    }


def _form_page(
    web: Web,
    ctx: Context,
    *,
    editing: bool,
    values: dict[str, str],
    version: str,
    errors: dict[str, str] | None = None,
    others: list[Problem] | None = None,
    status_code: int = 200,
) -> Response:
    return web.html(
        ctx.request,
        "jury_directory_form.j2",
        status_code=status_code,
        ctx=ctx,
        editing=editing,
        v=values,
        version=version,
        errors=errors or {},
        others=others or [],
    )


@page
def new_juror(web: Web, ctx: Context) -> Response:
    refused = may_edit(web, ctx)
    if refused is not None:
        return refused
    draft = _draft(web, ctx)
    if isinstance(draft, Response):
        return draft
    return _form_page(web, ctx, editing=False, values=_form_values(None), version=draft.version)


@page
def edit_juror(web: Web, ctx: Context) -> Response:
    found = _juror_for_change(web, ctx, ctx.request.query_params.get("email", ""))
    if isinstance(found, Response):
        return found
    _config, juror, draft = found
    return _form_page(web, ctx, editing=True, values=_form_values(juror), version=draft.version)


def _juror_for_change(
    web: Web, ctx: Context, typed: str
) -> tuple[Config, DirectoryJuror, Draft] | Response:
    """The juror a change names (``typed``: their address as given), with the configuration
    and ``jury.yaml`` ready to edit; else the page that refuses it (403, 404, 503)."""
    refused = may_edit(web, ctx)
    if refused is not None:
        return refused
    try:
        config = fresh_config(web)
    except ConfigError as exc:
        return web.error(ctx.request, 503, "Configuration illisible", str(exc), ctx)
    juror = _juror_or_404(web, ctx, config, typed.strip().lower())
    if isinstance(juror, Response):
        return juror
    refused = _may_touch(web, ctx, config, juror.email)
    if refused is not None:
        return refused
    draft = _draft(web, ctx)
    if isinstance(draft, Response):
        return draft
    return config, juror, draft


def _may_touch(web: Web, ctx: Context, config: Config, email: str) -> Response | None:
    """A 403 page when this user may not change, retire or re-address the juror ``email``: a
    viewer; a coordinator limited to some centres when the juror sits on a session of another
    centre. None when allowed."""
    refused = may_edit(web, ctx)
    if refused is not None:
        return refused
    user = ctx.user
    if user.admin or user.centres is None:
        return None
    elsewhere = [s for s in _sittings(config).get(email, []) if not user.may_change(s.centre)]
    if not elsewhere:
        return None
    request = ctx.request
    log.warning(
        "%s %s 403 : %s ne coordonne pas les centres des sessions de %s",
        request.method,
        request.url.path,
        user.login,
        email,
    )
    listed = " ; ".join(f"{s.short_label} ({s.centre})" for s in elsewhere)
    return web.error(
        request,
        403,
        "Action réservée",
        f"{email} siège aussi dans des sessions de centres que vous ne coordonnez pas : "
        f"{listed}. Seul un administrateur (ou un coordinateur de tous ces centres) peut le "
        "modifier, le retirer ou changer son adresse ; vous pouvez ajouter de nouveaux membres.",
        ctx,
    )


def _juror_or_404(web: Web, ctx: Context, config: Config, email: str) -> DirectoryJuror | Response:
    juror = config.jury.jurors.get(email)
    if juror is not None:
        return juror
    return web.error(
        ctx.request,
        404,
        "Membre introuvable",
        "Cette adresse n'est pas dans l'annuaire du jury (ou son entrée est en erreur : "
        "corriger jury.yaml).",
        ctx,
    )


def _draft(web: Web, ctx: Context) -> Draft | Response:
    """``jury.yaml`` for editing, or a page saying it must be mended by hand first (the
    loader could not read it)."""
    try:
        readable = fresh_config(web).jury.readable
    except ConfigError as exc:
        return web.error(ctx.request, 503, "Configuration illisible", str(exc), ctx)
    if readable:
        return read_draft(web.source.config_dir / JURY_FILE)
    return web.error(
        ctx.request,
        409,
        "Annuaire illisible",
        f"{JURY_FILE} ne se lit pas (voir ses problèmes sur la page de l'annuaire) : le "
        "corriger dans le fichier avant de le modifier ici.",
        ctx,
    )


def _entry(form: Form) -> dict[str, Any]:
    """The juror's block as the form gives it (empty optional fields left out)."""
    entry: dict[str, Any] = {"name": form.get("name", "").strip()}
    for key in ("phone", "company"):
        if form.get(key, "").strip():
            entry[key] = form[key].strip()
    entry["titles"] = items(form.get("titles", ""))
    ccp = items(form.get("ccp", ""))
    if ccp:
        entry["ccp"] = ccp
    entry["habilitation_until"] = day_or_text(form.get("habilitation_until", ""))
    return entry


@action
def save_juror(web: Web, ctx: Context, form: Form) -> Response:
    editing = form.get("mode") == "edit"
    values = {key: form.get(key, "").strip() for key in FIELDS}
    email = values["email"].lower()
    version = form.get("version", "")
    path = web.source.config_dir / JURY_FILE
    draft = _draft(web, ctx)
    if isinstance(draft, Response):
        return draft
    current: dict[str, Any] = {}
    if draft.exists:
        tree = plain(draft.tree)
        current = dict(tree) if isinstance(tree, dict) else {}
    key = next((k for k in current if str(k).lower() == email), None) if email else None
    errors: dict[str, str] = {}
    if not email or "@" not in email:
        errors["email"] = "adresse e-mail obligatoire (attendu : nom@domaine.fr)"
    elif editing and key is None:
        errors["email"] = "cette adresse n'est plus dans l'annuaire (attendu : l'ajouter)"
    elif not editing and key is not None:
        errors["email"] = (
            "adresse déjà présente dans l'annuaire (attendu : modifier ce membre plutôt que "
            "l'ajouter une seconde fois)"
        )
    if errors:
        return _form_page(
            web, ctx, editing=editing, values=values, version=version, errors=errors,
            status_code=400,
        )  # fmt: skip
    if editing:
        try:
            config = fresh_config(web)
        except ConfigError as exc:
            return web.error(ctx.request, 503, "Configuration illisible", str(exc), ctx)
        refused = _may_touch(web, ctx, config, email)
        if refused is not None:
            return refused
    entry = _entry(form)
    previous = current.get(key) if key is not None else None
    if isinstance(previous, dict) and "retired_on" in previous:
        entry["retired_on"] = previous["retired_on"]  # the form does not show it: kept
    updated = {**current, (key or email): entry}
    prefix = f"{key or email}."
    try:
        authoring(web).save_file(
            user=ctx.user.login,
            path=path,
            values=updated,
            version=version,
            now=web.clock(),
            action="jury_directory",
            check=check_jury_file,
        )
    except WriteConflict as exc:
        return conflict_page(web, ctx, exc, PATH)
    except WriteRefused as exc:
        errors = by_field(exc.problems, path, prefix)
        if "habilitation_until" in errors and isinstance(entry["habilitation_until"], str):
            errors["habilitation_until"] = day_message(values["habilitation_until"])
        return _form_page(
            web,
            ctx,
            editing=editing,
            values=values,
            version=version,
            errors=errors,
            others=[
                p for p in exc.problems if not (p.file == str(path) and p.field.startswith(prefix))
            ],
            status_code=400,
        )
    saved(web)
    log.info("annuaire du jury : %s enregistré(e) par %s", email, ctx.user.login)
    return RedirectResponse(f"{PATH}?enregistre={quote(email)}", status_code=303)


# --- retiring a juror --------------------------------------------------------------------------


def _entry_of(draft: Draft, email: str) -> tuple[dict[str, Any], Any, Any]:
    """``jury.yaml`` as plain values, and the key and entry of ``email`` in it (None, None when
    it is not there)."""
    tree = plain(draft.tree) if draft.exists else {}
    current: dict[str, Any] = dict(tree) if isinstance(tree, dict) else {}
    key = next((k for k in current if str(k).lower() == email), None)
    return current, key, current.get(key) if key is not None else None


def _save_directory(
    web: Web, ctx: Context, values: dict[str, Any], form: Form, action_name: str, refused: str
) -> Response | None:
    """Write ``values`` as ``jury.yaml`` over the version the form was made on (audited as
    ``action_name``): None when written, else the conflict page or the refusal (``refused``:
    its title)."""
    try:
        authoring(web).save_file(
            user=ctx.user.login,
            path=web.source.config_dir / JURY_FILE,
            values=values,
            version=form.get("version", ""),
            now=web.clock(),
            action=action_name,
            check=check_jury_file,
        )
    except WriteConflict as exc:
        return conflict_page(web, ctx, exc, PATH)
    except WriteRefused as exc:
        problems = "\n".join(str(p) for p in exc.problems)
        return web.error(ctx.request, 409, refused, f"Rien n'a été enregistré :\n{problems}", ctx)
    saved(web)
    return None


def _referenced(config: Config, email: str) -> list[Session]:
    """The sessions that take this juror from the directory by address alone (they would no
    longer load without the entry)."""
    ids = [sid for sid, emails in config.jury_references.items() if email in emails]
    found = [config.sessions[sid] for sid in ids if sid in config.sessions]
    return sorted(found, key=lambda s: (s.start, s.id))


def _retire_page(
    web: Web, ctx: Context, config: Config, juror: DirectoryJuror, version: str, status: int = 200
) -> Response:
    today = _today(web, ctx)
    sits = _sittings(config).get(juror.email, [])
    return web.html(
        ctx.request,
        "jury_directory_retire.j2",
        status_code=status,
        ctx=ctx,
        juror=juror,
        upcoming=[s for s in sits if _upcoming(s, today)],
        others=[s for s in sits if not _upcoming(s, today)],
        referenced=_referenced(config, juror.email),
        today=today,
        version=version,
    )


@page
def retire_form(web: Web, ctx: Context) -> Response:
    return _retire(web, ctx, ctx.request.query_params.get("email", ""), None)


@action
def retire_juror(web: Web, ctx: Context, form: Form) -> Response:
    return _retire(web, ctx, form.get("email", ""), form)


def _retire(web: Web, ctx: Context, typed: str, form: Form | None) -> Response:
    found = _juror_for_change(web, ctx, typed)
    if isinstance(found, Response):
        return found
    config, juror, draft = found
    today = _today(web, ctx)
    if form is None:
        return _retire_page(web, ctx, config, juror, draft.version)
    if any(_upcoming(s, today) for s in _sittings(config).get(juror.email, [])):
        return _retire_page(web, ctx, config, juror, draft.version, status=409)
    current, key, entry = _entry_of(draft, juror.email)
    if key is None or not isinstance(entry, dict):
        return web.error(
            ctx.request,
            409,
            "Membre introuvable",
            "Cette adresse n'est plus "
            "dans jury.yaml (modifié entre-temps) : rien n'a été enregistré.",
            ctx,
        )
    keep = bool(_referenced(config, juror.email))
    if keep:
        updated = {**current, key: {**entry, "retired_on": entry.get("retired_on", today)}}
    else:
        updated = {k: v for k, v in current.items() if k != key}
    refused = _save_directory(web, ctx, updated, form, "jury_directory_retire", "Retrait refusé")
    if refused is not None:
        return refused
    log.info("annuaire du jury : %s retiré(e) par %s", juror.email, ctx.user.login)
    suffix = "&garde=1" if keep else ""
    return RedirectResponse(f"{PATH}?retire={quote(juror.email)}{suffix}", status_code=303)


# --- reactivating a retired juror -----------------------------------------------------------------


@action
def reactivate_juror(web: Web, ctx: Context, form: Form) -> Response:
    """Remove ``retired_on`` from a retired juror's entry (same rules as retiring)."""
    found = _juror_for_change(web, ctx, form.get("email", ""))
    if isinstance(found, Response):
        return found
    _config, juror, draft = found
    current, key, entry = _entry_of(draft, juror.email)
    if key is None or not isinstance(entry, dict) or "retired_on" not in entry:
        return web.error(
            ctx.request,
            409,
            "Membre non retiré",
            f"{juror.email} n'est pas marqué(e) retiré(e) dans jury.yaml (réactivé(e) ou modifié "
            "entre-temps) : rien n'a été enregistré.",
            ctx,
        )
    updated = {**current, key: {k: v for k, v in entry.items() if k != "retired_on"}}
    refused = _save_directory(
        web, ctx, updated, form, "jury_directory_reactivate", "Réactivation refusée"
    )
    if refused is not None:
        return refused
    log.info("annuaire du jury : %s réactivé(e) par %s", juror.email, ctx.user.login)
    return RedirectResponse(f"{PATH}?reactive={quote(juror.email)}", status_code=303)


# --- changing a juror's address ------------------------------------------------------------------


def _address_files(web: Web, config: Config, email: str) -> dict[str, Path]:
    """The files naming ``email`` as a juror, by their path in the configuration folder:
    ``jury.yaml`` first, then the session files."""
    root = web.source.config_dir
    files = {JURY_FILE: root / JURY_FILE}
    for session in _sittings(config).get(email, []):
        path = config.session_files.get(session.id)
        if path is not None:
            files[_relative(root, path)] = path
    return files


def _relative(root: Path, path: Path) -> str:
    try:
        return str(path.relative_to(root))
    except ValueError:
        return str(path)


def _versions(files: dict[str, Path]) -> str:
    """The version of each file, as one hidden field: ``path=version`` separated by ``;``."""
    return ";".join(f"{name}={read_draft(path).version}" for name, path in files.items())


def _address_page(
    web: Web,
    ctx: Context,
    juror: DirectoryJuror,
    files: dict[str, Path],
    versions: str,
    new_email: str = "",
    error: str = "",
    others: list[Problem] | None = None,
    status: int = 200,
) -> Response:
    return web.html(
        ctx.request,
        "jury_directory_address.j2",
        status_code=status,
        ctx=ctx,
        juror=juror,
        files=list(files),
        versions=versions,
        new_email=new_email,
        error=error,
        others=others or [],
    )


@page
def address_form(web: Web, ctx: Context) -> Response:
    return _address(web, ctx, ctx.request.query_params.get("email", ""), None)


@action
def change_address(web: Web, ctx: Context, form: Form) -> Response:
    return _address(web, ctx, form.get("email", ""), form)


def _rename_key(old: str, new: str) -> Any:
    """``jury.yaml``'s tree with the entry ``old`` under ``new``, at the same place, with its
    comments."""

    def change(tree: Any) -> Any:
        key = next(k for k in tree if str(k).lower() == old)
        keys = list(tree)
        position = keys.index(key)
        value = tree.pop(key)
        tree.insert(position, new, value)
        comments = tree.ca.items.pop(key, None)
        if comments is not None:
            tree.ca.items[new] = comments
        return tree

    return change


def _readdress_jury(old: str, new: str) -> Any:
    """A session file's tree with every jury entry naming ``old`` naming ``new``."""

    def change(tree: Any) -> Any:
        for item in tree.get("jury") or []:
            if hasattr(item, "get") and str(item.get("email", "")).strip().lower() == old:
                item["email"] = new
        return tree

    return change


def _address(web: Web, ctx: Context, typed: str, form: Form | None) -> Response:
    found = _juror_for_change(web, ctx, typed)
    if isinstance(found, Response):
        return found
    config, juror, _readable = found
    files = _address_files(web, config, juror.email)
    if form is None:
        return _address_page(web, ctx, juror, files, _versions(files))
    new = form.get("new_email", "").strip().lower()
    versions = form.get("versions", "")
    error = ""
    if not new or "@" not in new:
        error = "nouvelle adresse obligatoire (attendu : nom@domaine.fr)"
    elif new == juror.email:
        error = "c'est déjà son adresse (attendu : une autre adresse)"
    elif new in config.jury.jurors or new in config.jury.broken:
        error = (
            "adresse déjà présente dans l'annuaire (attendu : une adresse qu'aucun autre membre "
            "n'a)"
        )
    if error:
        return _address_page(web, ctx, juror, files, versions, new, error, status=400)
    sent = dict(item.split("=", 1) for item in versions.split(";") if "=" in item)
    if set(sent) != set(files):
        return web.error(
            ctx.request,
            409,
            "Fichiers modifiés entre-temps",
            "Les sessions qui citent ce membre ont changé depuis l'ouverture de la page (par une "
            "autre personne ou un autre onglet) : rien n'a été enregistré. Rouvrir « Changer "
            "l'adresse » et recommencer.",
            ctx,
        )
    edits = [
        Edit(
            path,
            sent[name],
            _rename_key(juror.email, new)
            if name == JURY_FILE
            else _readdress_jury(juror.email, new),
        )
        for name, path in files.items()
    ]
    jury_path = files[JURY_FILE]
    try:
        authoring(web).save_edits(
            user=ctx.user.login,
            edits=edits,
            now=web.clock(),
            action="jury_address",
            check=lambda cfg, proposed: check_jury_and_sessions(cfg, jury_path, proposed),
        )
    except WriteConflict as exc:
        return conflict_page(web, ctx, exc, f"{PATH}/adresse?email={quote(juror.email)}")
    except WriteRefused as exc:
        return _address_page(
            web, ctx, juror, files, versions, new, "", list(exc.problems), status=400
        )
    except PartialWrite as exc:
        saved(web)
        log.error("annuaire du jury : changement d'adresse de %s inachevé : %s", juror.email, exc)
        return web.error(ctx.request, 500, "Changement d'adresse inachevé", str(exc), ctx)
    saved(web)
    log.info(
        "annuaire du jury : adresse %s → %s par %s (%d fichiers)",
        juror.email,
        new,
        ctx.user.login,
        len(files),
    )
    return RedirectResponse(
        f"{PATH}?adresse={quote(new)}&ancienne={quote(juror.email)}", status_code=303
    )


# --- a convened person's agenda link --------------------------------------------------------------


@action
def rotate_person_feed(web: Web, ctx: Context, form: Form) -> Response:
    """« Nouveau lien »: a new token for one person's feed (the old link answers 404)."""
    if not web.settings.feeds.per_person:
        return web.error(ctx.request, 404, "Introuvable", "Pas d'agendas personnels ici.", ctx)
    try:
        config = fresh_config(web)
    except ConfigError as exc:
        return web.error(ctx.request, 503, "Configuration illisible", str(exc), ctx)
    email = form.get("email", "").strip().lower()
    person = convened_people(config.sessions.values()).get(email)
    if person is None:
        return web.error(
            ctx.request,
            404,
            "Personne introuvable",
            "Cette adresse n'est convoquée à aucune session : elle n'a pas d'agenda personnel.",
            ctx,
        )
    if not _sees_feed(ctx.user, person):
        log.warning(
            "POST %s 403 : %s ne coordonne aucun centre des sessions de %s",
            ctx.request.url.path,
            ctx.user.login,
            email,
        )
        return web.error(
            ctx.request,
            403,
            "Action réservée",
            f"{email} n'est convoqué(e) qu'à des sessions de centres que vous ne coordonnez pas : "
            "un administrateur ou un coordinateur de ces centres peut changer son lien.",
            ctx,
        )
    now = web.clock()
    rotate_person(web.store, email, now)
    web.store.record_audit(
        AuditEntry(
            at=now,
            user=ctx.user.login,
            action="person_feed_rotate",
            file="",
            session_id=None,
            changes=(("agenda", None, email),),
            note=None,
        )
    )
    log.info("annuaire du jury : nouveau lien d'agenda pour %s par %s", email, ctx.user.login)
    return RedirectResponse(f"{PATH}?nouveau_lien={quote(email)}#agendas", status_code=303)


ROUTES = [
    Route(PATH, directory),
    Route(f"{PATH}/nouveau", new_juror),
    Route(f"{PATH}/modifier", edit_juror),
    Route(f"{PATH}/enregistrer", save_juror, methods=["POST"]),
    Route(f"{PATH}/retirer", retire_form),
    Route(f"{PATH}/retirer", retire_juror, methods=["POST"]),
    Route(f"{PATH}/reactiver", reactivate_juror, methods=["POST"]),
    Route(f"{PATH}/adresse", address_form),
    Route(f"{PATH}/adresse", change_address, methods=["POST"]),
    Route(f"{PATH}/agenda/nouveau-lien", rotate_person_feed, methods=["POST"]),
]
