"""Country names: accept what people type (name, official name, ISO code) and keep one canonical spelling."""

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
}


@lru_cache(maxsize=1)
def _index():
    index = {}
    for c in pycountry.countries:
        display = getattr(c, "common_name", None) or c.name
        for name in {c.name, display, getattr(c, "official_name", None), c.alpha_2, c.alpha_3}:
            if name:
                index[name.casefold()] = display
    for alias, target in ALIASES.items():
        index.setdefault(alias, index.get(target.casefold(), target))
    return index


def canonical(name: str) -> str | None:
    """The canonical spelling of a country, or None when it is not a country we know."""
    return _index().get((name or "").strip().casefold())


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
