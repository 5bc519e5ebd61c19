"""The ruleset's sources: every quote is word for word in its seed document and never cut
mid-sentence; every source has its full title; legal texts are cited by their exact title."""

from __future__ import annotations

import re
import unicodedata
from functools import cache
from pathlib import Path

import pytest

from syncsvc.core.rules import RuleSource
from syncsvc.inputs.loader import load_ruleset

RULESET = load_ruleset()
DOMAIN = Path(__file__).resolve().parents[2] / "docs" / "domain"
SEEDS = DOMAIN / "seeds"
"""The five source documents (a copy of ../shared/seeds kept in the repository)."""


def seed_files() -> dict[str, Path]:
    """S0…S4 -> their file, as the milestone catalogue names them."""
    head = (DOMAIN / "milestones.md").read_text(encoding="utf-8")
    return {ref: SEEDS / name for ref, name in re.findall(r"(S\d) = `([0-9a-f_]+\.txt)`", head)}


MARKUP = re.compile(r"<[^>]+>")
LINK = re.compile(r"\[([^\]]*)\]\([^)]*\)")
APOSTROPHES = str.maketrans({"’": "'", "‘": "'", "ʼ": "'"})
OCR_BULLET = re.compile(r"(?m)^([ \t]*)[eo¢®](?= )")
"""S3 is a scan read by OCR: its bullets came out as a lone « e », « o » or « ¢ »."""


def readable(text: str) -> str:
    """A seed as a person reads it: no HTML tags (S2's table cells), links as their words,
    typographic apostrophes as straight ones, S3's bullets as bullets."""
    text = unicodedata.normalize("NFC", text).translate(APOSTROPHES)
    return OCR_BULLET.sub(r"\1•", LINK.sub(r"\1", MARKUP.sub(" ", text)))


@cache
def seed_text(ref: str) -> str:
    return readable(seed_files()[ref].read_text(encoding="utf-8"))


IGNORED = r"(?:[\s*_#▶•]|-(?=\s))*"
"""Between two characters of a quote, the seed may hold spaces, line breaks, Markdown emphasis,
headings and bullets (« Création de la session dans **CERES** »)."""


def quote_pattern(quote: str) -> re.Pattern[str]:
    chars = [c for c in readable(quote) if not c.isspace()]
    return re.compile(IGNORED.join(re.escape(c) for c in chars))


SENTENCE_END = ".!?:;…»)"
MARKS = " \t*_#>-▶•"


def starts_a_sentence(text: str, start: int) -> bool:
    """Nothing of the same sentence before ``start``: the start of a line, a cell, a bullet, or
    after a sentence's (or a clause's) end."""
    before = text[:start].rstrip(" *_#>▶•-")
    if not before or before[-1] in "\n\t":
        return True
    return not (before[-1].isalnum() or before[-1] in ",'«")


def ends_a_sentence(quote: str, text: str, end: int) -> bool:
    """The quote ends a sentence: with its final punctuation, or where a line, a cell or an
    emphasis (a heading) ends."""
    if quote.rstrip()[-1] == ",":
        return False  # the sentence goes on
    if quote.rstrip()[-1] in SENTENCE_END:
        return True
    after = text[end:]
    if after[:1] in ("*", "_") or not after.strip(" "):
        return True  # the end of an emphasis (a heading), or of the document
    rest = after.lstrip(" ")
    if rest[0] in "\t)":
        return True
    if rest[0] == "\n":
        following = rest.lstrip("\n").lstrip(" ")
        return rest.startswith("\n\n") or not following[:1].islower()
    return False


QUOTES = [
    (rule.id, source)
    for rule in RULESET.rules
    for source in rule.sources
    if source.quote is not None
]


@pytest.mark.parametrize(
    ("rule_id", "source"), QUOTES, ids=[f"{r}-{s.ref}-{i}" for i, (r, s) in enumerate(QUOTES)]
)
def test_every_quote_is_verbatim_and_whole(rule_id: str, source: RuleSource) -> None:
    assert source.quote is not None
    text = seed_text(source.ref)
    found = quote_pattern(source.quote).search(text)
    assert found is not None, f"{rule_id} : citation absente de {source.ref} : {source.quote!r}"
    assert starts_a_sentence(text, found.start()), f"{rule_id} : début coupé : {source.quote!r}"
    assert ends_a_sentence(source.quote, text, found.end()), (
        f"{rule_id} : fin coupée : {source.quote!r} puis {text[found.end() : found.end() + 40]!r}"
    )


def test_the_checks_catch_a_quote_cut_mid_sentence() -> None:
    """The issue's example, « … au minimum », and a quote whose start is cut."""
    s2 = seed_text("S2")
    cut = "Transmettre à l'UD de la DIRECCTE compétente les informations concernant la session"
    found = quote_pattern(cut + " d'examen au minimum").search(s2)
    assert found is not None
    assert not ends_a_sentence(cut + " d'examen au minimum", s2, found.end())
    middle = quote_pattern("dans CERES, créez la session d'examen").search(seed_text("S1"))
    assert middle is not None
    assert not starts_a_sentence(seed_text("S1"), middle.start())
    assert quote_pattern("une phrase qui n'existe pas").search(s2) is None


def test_every_source_has_its_full_title_and_legal_texts_their_exact_title() -> None:
    table = RULESET.sources
    assert set(seed_files()) <= set(table)
    assert table["S1"].title == "La préparation d'une Session d'examen"
    assert table["S2"].title == "Guide de préparation de la session"
    assert table["S4"].title == (
        "Chronologie d'une session d'examen d'un Titre Professionnel – de la préparation à la "
        "validation"
    )
    for ref in ("S1", "S2", "S4"):
        title = table[ref].title
        assert title is not None, ref
        assert quote_pattern(title).search(seed_text(ref)), ref
    legal = {ref: s for ref, s in table.items() if s.kind == "legal"}
    assert legal["RG2016"].title == (
        "Arrêté du 21 juillet 2016 portant règlement général des sessions d'examen pour "
        "l'obtention du titre professionnel du ministère chargé de l'emploi"
    )
    cited = {s.ref for rule in RULESET.rules for s in rule.sources}
    assert set(table) == cited, "every source of the table is cited, every cited one listed"


def test_old_names_are_explained_where_a_source_uses_them() -> None:
    """A quote naming the Direccte, the DIECCTE or the DRIEETS comes from a source whose label
    says when it was written and what the service is called now."""
    old = re.compile(r"DIRECCTE|Direccte|DIECCTE|DRIEETS|DDCS")
    for rule in RULESET.rules:
        for source in rule.sources:
            if source.quote and old.search(source.quote):
                label = RULESET.sources[source.ref].label
                assert "avril 2021" in label, (rule.id, source.ref)
