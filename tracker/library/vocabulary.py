"""The library's vocabularies: languages (one code each, with the name people read) and countries (matched
forgivingly: names, ISO codes and common other names all lead to one country).

Resources store language codes (`zh-Hans`), never names, so one language is never written two ways and the
language filter does not split. Country tags stay as names (the portal's facts); a school's country, typed
freely (`Thailand`, `TH`, `THA`, ` thailand `), is matched to them through `country_key`.
"""

import unicodedata

#: code -> display name; the seed file and stored rows use the codes
LANGUAGES = {
    "en": "English",
    "ar": "Arabic",
    "zh-Hans": "Chinese (Simplified)",
    "zh-Hant": "Chinese (Traditional)",
    "fr": "French",
    "de": "German",
    "ja": "Japanese",
    "ko": "Korean",
    "pt": "Portuguese",
    "ru": "Russian",
    "es": "Spanish",
    "th": "Thai",
    "vi": "Vietnamese",
}

#: names written before the vocabulary existed, and other spellings, -> code (the data migration uses it)
LANGUAGE_ALIASES = {name.casefold(): code for code, name in LANGUAGES.items()} | {
    "chinese": "zh-Hans",
    "simplified chinese": "zh-Hans",
    "traditional chinese": "zh-Hant",
    "mandarin": "zh-Hans",
}


def language_name(code: str) -> str:
    return LANGUAGES.get(code, code)


def language_code(value: str) -> str | None:
    """The code for a code or a name written any common way; None when it is not in the vocabulary."""
    value = (value or "").strip()
    if value in LANGUAGES:
        return value
    return LANGUAGE_ALIASES.get(value.casefold())


#: country name as the library writes it -> ISO 3166 alpha-2, alpha-3 and other names people use
COUNTRIES = {
    "Argentina": ("AR", "ARG"),
    "Bolivia": ("BO", "BOL", "Plurinational State of Bolivia"),
    "Brazil": ("BR", "BRA", "Brasil"),
    "Brunei": ("BN", "BRN", "Brunei Darussalam"),
    "Cambodia": ("KH", "KHM", "Kampuchea"),
    "Chile": ("CL", "CHL"),
    "China": ("CN", "CHN", "People's Republic of China", "PRC"),
    "Colombia": ("CO", "COL"),
    "Costa Rica": ("CR", "CRI"),
    "Dominican Republic": ("DO", "DOM"),
    "Ecuador": ("EC", "ECU"),
    "El Salvador": ("SV", "SLV"),
    "Guatemala": ("GT", "GTM"),
    "Honduras": ("HN", "HND"),
    "Hong Kong": ("HK", "HKG", "Hong Kong SAR"),
    "India": ("IN", "IND", "Bharat"),
    "Indonesia": ("ID", "IDN"),
    "Japan": ("JP", "JPN"),
    "Laos": ("LA", "LAO", "Lao PDR", "Lao People's Democratic Republic"),
    "Malaysia": ("MY", "MYS"),
    "Mexico": ("MX", "MEX", "México"),
    "Myanmar": ("MM", "MMR", "Burma"),
    "Nicaragua": ("NI", "NIC"),
    "Panama": ("PA", "PAN", "Panamá"),
    "Paraguay": ("PY", "PRY"),
    "Peru": ("PE", "PER", "Perú"),
    "Philippines": ("PH", "PHL", "The Philippines", "Republic of the Philippines"),
    "Singapore": ("SG", "SGP"),
    "South Korea": ("KR", "KOR", "Korea", "Republic of Korea"),
    "Thailand": ("TH", "THA", "Kingdom of Thailand", "Siam"),
    "United Arab Emirates": ("AE", "ARE", "UAE", "Emirates"),
    "United Kingdom": (
        "GB",
        "GBR",
        "UK",
        "Great Britain",
        "Britain",
        "England",
        "Scotland",
        "Wales",
        "Northern Ireland",
    ),
    "United States": ("US", "USA", "United States of America", "America"),
    "Uruguay": ("UY", "URY"),
    "Venezuela": ("VE", "VEN", "Bolivarian Republic of Venezuela"),
    "Vietnam": ("VN", "VNM", "Viet Nam"),
}


def _fold(value: str) -> str:
    """Lower case, no accents, no punctuation, single spaces, no leading 'the'."""
    text = unicodedata.normalize("NFKD", value or "")
    text = "".join(ch for ch in text if not unicodedata.combining(ch)).casefold()
    text = "".join(ch if ch.isalnum() else " " for ch in text)
    words = text.split()
    if words[:1] == ["the"]:
        words = words[1:]
    return " ".join(words)


_COUNTRY_INDEX = {}
for _name, _others in COUNTRIES.items():
    for _written in (_name, *_others):
        _COUNTRY_INDEX[_fold(_written)] = _name


def country_key(value: str) -> str:
    """One key per country however it is written: the library's name when known, else the folded text."""
    folded = _fold(value)
    return _COUNTRY_INDEX.get(folded, folded)
