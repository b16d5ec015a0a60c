"""Country names: accept what people type (name, official name, ISO code, common spellings and local names)
and keep one canonical spelling; suggest the nearest name when unsure."""

import difflib
import unicodedata
from functools import lru_cache

import pycountry

#: names people commonly use that pycountry spells otherwise
ALIASES = {
    "uk": "United Kingdom",
    "great britain": "United Kingdom",
    "england": "United Kingdom",
    "scotland": "United Kingdom",
    "wales": "United Kingdom",
    "usa": "United States",
    "us": "United States",
    "america": "United States",
    "south korea": "Korea, Republic of",
    "north korea": "Korea, Democratic People's Republic of",
    "russia": "Russian Federation",
    "vietnam": "Viet Nam",
    "laos": "Lao People's Democratic Republic",
    "iran": "Iran, Islamic Republic of",
    "syria": "Syrian Arab Republic",
    "tanzania": "Tanzania, United Republic of",
    "bolivia": "Bolivia, Plurinational State of",
    "venezuela": "Venezuela, Bolivarian Republic of",
    "moldova": "Moldova, Republic of",
    "czech republic": "Czechia",
    "turkey": "Türkiye",
    "ivory coast": "Côte d'Ivoire",
    "uae": "United Arab Emirates",
    "brunei": "Brunei Darussalam",
    "britain": "United Kingdom",
    "northern ireland": "United Kingdom",
    "united states of america": "United States",
    "the netherlands": "Netherlands",
    "holland": "Netherlands",
    "nederland": "Netherlands",
    "brasil": "Brazil",
    "deutschland": "Germany",
    "espana": "Spain",
    "españa": "Spain",
    "italia": "Italy",
    "schweiz": "Switzerland",
    "suisse": "Switzerland",
    "svizzera": "Switzerland",
    "osterreich": "Austria",
    "österreich": "Austria",
    "belgie": "Belgium",
    "belgique": "Belgium",
    "danmark": "Denmark",
    "norge": "Norway",
    "sverige": "Sweden",
    "suomi": "Finland",
    "polska": "Poland",
    "hellas": "Greece",
    "ellada": "Greece",
    "magyarorszag": "Hungary",
    "turkiye": "Türkiye",
    "rossiya": "Russian Federation",
    "nippon": "Japan",
    "nihon": "Japan",
    "zhongguo": "China",
    "prc": "China",
    "mainland china": "China",
    "hong kong sar": "Hong Kong",
    "korea": "Korea, Republic of",
    "republic of korea": "Korea, Republic of",
    "bharat": "India",
    "mexique": "Mexico",
    "méxico": "Mexico",
    "mexico": "Mexico",
    "peru": "Peru",
    "perú": "Peru",
    "argentine": "Argentina",
    "misr": "Egypt",
    "burma": "Myanmar",
    "siam": "Thailand",
    "prathet thai": "Thailand",
    "eire": "Ireland",
    "éire": "Ireland",
    "republic of ireland": "Ireland",
    "cape verde": "Cabo Verde",
    "swaziland": "Eswatini",
    "macedonia": "North Macedonia",
    "east timor": "Timor-Leste",
    "the gambia": "Gambia",
    "the bahamas": "Bahamas",
    "vatican": "Holy See (Vatican City State)",
    "palestine": "Palestine, State of",
    "taiwan": "Taiwan",
    "drc": "Congo, The Democratic Republic of the",
    "dr congo": "Congo, The Democratic Republic of the",
}


def _fold(name: str) -> str:
    """Case- and accent-insensitive form of a name ("España" and "espana" match)."""
    text = unicodedata.normalize("NFKD", (name or "").strip().casefold())
    return " ".join("".join(ch for ch in text if not unicodedata.combining(ch)).replace(".", "").split())


@lru_cache(maxsize=1)
def _index():
    index = {}
    for c in pycountry.countries:
        display = getattr(c, "common_name", None) or c.name
        for name in {c.name, display, getattr(c, "official_name", None), c.alpha_2, c.alpha_3}:
            if name:
                index[_fold(name)] = display
    for alias, target in ALIASES.items():
        index.setdefault(_fold(alias), index.get(_fold(target), target))
    return index


def canonical(name: str) -> str | None:
    """The canonical spelling of a country, or None when it is not a country we know."""
    return _index().get(_fold(name))


def suggestion(name: str) -> str | None:
    """The country `name` most likely means when it is not one we know ("Brazl" → "Brazil"), or None."""
    folded = _fold(name)
    if len(folded) < 3:
        return None
    close = difflib.get_close_matches(folded, [k for k in _index() if len(k) > 3], n=1, cutoff=0.75)
    return _index()[close[0]] if close else None


def all_names() -> list[str]:
    return sorted(set(_index().values()))


def parse_list(text: str) -> tuple[list[str], list[str]]:
    """Split 'Thailand; UK, Kenya' into (canonical names, unknown names)."""
    known, unknown = [], []
    for part in (text or "").replace(";", ",").split(","):
        part = part.strip()
        if not part:
            continue
        name = canonical(part)
        if name is None:
            unknown.append(part)
        elif name not in known:
            known.append(name)
    return known, unknown
