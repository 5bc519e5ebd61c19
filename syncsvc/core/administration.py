"""The State's services a centre deals with, by their names in force (pure).

Since 1 April 2021 (décret n° 2020-1545 du 9 décembre 2020), the Direccte and the directions of
social cohesion are gone. What follows the titles professionnels is:

- in a metropolitan département, the *DDETS* (direction départementale de l'emploi, du travail et
  des solidarités), or the *DDETS-PP* (« et de la protection des populations ») in the
  départements of fewer than 400,000 inhabitants;
- in Paris and the petite couronne (75, 92, 93, 94), an *unité départementale* of the *DRIEETS*
  (direction régionale et interdépartementale de l'économie, de l'emploi, du travail et des
  solidarités d'Île-de-France); the grande couronne (77, 78, 91, 95) has DDETS;
- overseas, the *DEETS* of Guadeloupe, Martinique, La Réunion and Mayotte (they replaced the
  DIECCTE); in Guyane, the State's services were regrouped on 1 January 2020 (décret n° 2019-894
  du 28 août 2019) and the employment and training missions went to the *direction générale des
  populations*;
- at the regional level, the *DREETS* (DRIEETS in Île-de-France, DEETS overseas).

A centre names its own service in ``centres.yaml`` (``ud_name: "DDETS du Rhône"``, or
``"DDETS-PP de la Lozère"``: which départements have a DDETS-PP is not known here); without it,
:func:`default_ud_name` gives the best name the centre's holiday zone and the postal code of its
address allow — never the name of another département's service.

The AFPA's exam service receives the questions about a missing exam pack (S4): one address per
sector, and one for the CCP sessions (:func:`exam_service_email`).
"""

from __future__ import annotations

import re
from typing import Final

OVERSEAS_SERVICES: Final = {
    "971": "DEETS de la Guadeloupe",
    "972": "DEETS de la Martinique",
    "973": "direction générale des populations de Guyane",
    "974": "DEETS de La Réunion",
    "976": "DEETS de Mayotte",
}
"""The service of each overseas holiday zone (the zone is the département)."""
ILE_DE_FRANCE_UNITS: Final = {
    "75": "Paris",
    "92": "Hauts-de-Seine",
    "93": "Seine-Saint-Denis",
    "94": "Val-de-Marne",
}
"""Départements whose service is a unité départementale of the DRIEETS Île-de-France."""
GRANDE_COURONNE: Final = {
    "77": "DDETS de Seine-et-Marne",
    "78": "DDETS des Yvelines",
    "91": "DDETS de l'Essonne",
    "95": "DDETS du Val-d'Oise",
}
"""Île-de-France départements outside the petite couronne: a DDETS each (over 400,000
inhabitants)."""
EXAM_SERVICE_EMAILS: Final = {
    "btp": "epreuves-btp@afpa.fr",
    "industrie": "epreuves-industrie@afpa.fr",
    "tertiaire": "epreuves-tertiaire@afpa.fr",
    "ccp": "epreuves-ccp@afpa.fr",
}
"""The AFPA's exam service by sector, and for the CCP sessions (S4)."""

_POSTAL_CODE = re.compile(r"(?<![0-9])(97[1-6]|[0-9]{2})[0-9]{2,3}(?![0-9])")


def departement_of(address: str | None) -> str | None:
    """The département of the last French postal code in ``address`` (``69200 Vénissieux`` →
    ``69``; ``97440 Saint-André`` → ``974``), or None."""
    if not address:
        return None
    found = [m for m in _POSTAL_CODE.finditer(address) if len(m[0]) == 5]
    return found[-1][1] if found else None


def default_ud_name(holiday_zone: str, address: str | None) -> str:
    """The name of the State's service for a centre that does not write its own ``ud_name``."""
    if holiday_zone in OVERSEAS_SERVICES:
        return OVERSEAS_SERVICES[holiday_zone]
    departement = departement_of(address)
    if departement in ILE_DE_FRANCE_UNITS:
        return f"DRIEETS Île-de-France, unité départementale de {ILE_DE_FRANCE_UNITS[departement]}"
    if departement in GRANDE_COURONNE:
        return GRANDE_COURONNE[departement]
    if departement in OVERSEAS_SERVICES:
        return OVERSEAS_SERVICES[departement]
    return "DDETS"


def exam_service_email(sector: str, nature: str | None) -> str:
    """The AFPA's exam-service address for a session: the CCP one for a CCP session, else the
    centre's sector's (``nature`` None: a centre's own milestone, its sector's)."""
    return EXAM_SERVICE_EMAILS["ccp" if nature == "ccp" else sector]
