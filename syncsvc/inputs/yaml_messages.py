"""PyYAML's error messages, in French: what is wrong and what was expected.

PyYAML (and libyaml under it) explains a failure in English fragments (« mapping values are not
allowed here », « exceeded maximum nesting depth »…) and names no file (``in "<unicode
string>"``). A message is translated by the first fragment it contains; one not listed becomes
« syntaxe YAML invalide », never the English text.
"""

from __future__ import annotations

MAX_NODES = 10_000
"""At most this many values (keys, texts, lists, blocks) in one file."""
MAX_DEPTH = 20
"""At most this many levels of nesting in one file."""

SYNTAX = "une syntaxe YAML valide ; vérifier l'indentation, les deux-points et les guillemets"
_WHOLE = (
    "chaque valeur écrite en entier ; une valeur qui commence par & ou * s'écrit entre guillemets"
)
_NESTING = f"au plus {MAX_DEPTH} niveaux de listes et de blocs imbriqués"
_ONE_DOCUMENT = "un seul document, sans ligne --- ni ... au milieu"

ALIAS = f"ancre (&nom) ou alias (*nom) YAML refusé (attendu : {_WHOLE})"
DEPTH = f"imbrication trop profonde (attendu : {_NESTING})"
TOO_MANY = (
    f"trop de valeurs dans le fichier (attendu : au plus {MAX_NODES:_} valeurs ; un fichier de "
    "configuration en compte quelques centaines)"
).replace("_", " ")
KEY_NOT_TEXT = (
    "une liste ou un bloc sert de clé (attendu : une clé qui est un simple mot, ex. location:)"
)

# (English fragment, French problem, what was expected); the first fragment found wins.
_TRANSLATIONS: list[tuple[str, str, str]] = [
    (
        "mapping values are not allowed",
        "deux-points inattendu (une valeur qui contient « : » doit être entre guillemets, "
        "ou l'indentation est fausse)",
        SYNTAX,
    ),
    ("could not find expected ':'", "deux-points manquant après une clé", SYNTAX),
    (
        "found a tab character",
        "tabulation dans l'indentation",
        "une indentation faite d'espaces",
    ),
    (
        "cannot start any token",
        "caractère interdit en début de valeur (une tabulation ? indenter avec des espaces)",
        SYNTAX,
    ),
    ("did not find expected key", "indentation incohérente", SYNTAX),
    ("expected <block end>", "indentation incohérente", SYNTAX),
    (
        "did not find expected ',' or ']'",
        "liste [ … ] mal fermée (virgule ou crochet manquant)",
        SYNTAX,
    ),
    (
        "did not find expected ',' or '}'",
        "bloc { … } mal fermé (virgule ou accolade manquante)",
        SYNTAX,
    ),
    ("did not find expected '-' indicator", "élément de liste mal indenté", SYNTAX),
    (
        "found unexpected end of stream",
        "fin de fichier inattendue (guillemet ou crochet non fermé ?)",
        SYNTAX,
    ),
    (
        "found unknown escape character",
        "caractère d'échappement inconnu entre guillemets",
        'un échappement connu entre guillemets doubles (\\n, \\t, \\\\, \\") ou des '
        "guillemets simples",
    ),
    (
        "found invalid Unicode character escape code",
        "code de caractère invalide entre guillemets (\\u…)",
        "un code Unicode valide, ou le caractère lui-même",
    ),
    ("exceeded maximum nesting depth", "imbrication trop profonde", _NESTING),
    ("undefined alias", "alias (*nom) refusé", _WHOLE),
    ("anchor", "ancre (&nom) refusée", _WHOLE),
    (
        "could not determine a constructor for the tag",
        "étiquette YAML (!…) non prise en charge",
        "une valeur sans étiquette ! ; un texte qui commence par ! s'écrit entre guillemets",
    ),
    ("found another document", "plusieurs documents YAML dans le fichier", _ONE_DOCUMENT),
]


def translated(english: str) -> str:
    """``problem (attendu : …)`` in French for an English message of PyYAML."""
    for fragment, problem, expected in _TRANSLATIONS:
        if fragment in english:
            return f"YAML invalide : {problem} (attendu : {expected})"
    return f"syntaxe YAML invalide (attendu : {SYNTAX})"


def unreadable_character(code: int) -> str:
    """A character YAML does not accept in a file (a control character written as is)."""
    return (
        f"caractère U+{code:04X} interdit dans un fichier YAML (attendu : du texte sans "
        "caractère de contrôle ; un caractère spécial s'écrit entre guillemets doubles, ex. "
        '"\\t")'
    )
