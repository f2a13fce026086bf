"""Text folding shared by the loader (indexing) and the API (querying).

Both sides must fold identically, or a query misses rows the index holds.
"""

import unicodedata

# Letters that NFKD does not decompose into a base letter plus marks.
_SPECIAL = str.maketrans(
    {
        "ß": "ss",
        "ẞ": "ss",
        "æ": "ae",
        "Æ": "ae",
        "œ": "oe",
        "Œ": "oe",
        "ø": "o",
        "Ø": "o",
        "đ": "d",
        "Đ": "d",
        "ð": "d",
        "Ð": "d",
        "ł": "l",
        "Ł": "l",
        "ı": "i",  # noqa: RUF001 -- the dotless i is the point
        "þ": "th",
        "Þ": "th",
        "ħ": "h",
        "Ħ": "h",
    }
)


def fold(text: str) -> str:
    """Case- and accent-insensitive form of `text`: 'São Paulo' -> 'sao paulo'."""
    decomposed = unicodedata.normalize("NFKD", text.translate(_SPECIAL))
    stripped = "".join(ch for ch in decomposed if not unicodedata.combining(ch))
    return " ".join(stripped.casefold().split())
