"""Member search by name or member number: what matches, and the keys that let an index find it.

**What matches** (``GET /v1/members?q=…``): the query, normalized as names are (``shared.text.normalize``:
diacritics and case dropped, spaces collapsed), occurs in the member's normalized name *at the start of a
word* — ``nguyen van an`` finds "Nguyễn Văn An" and "Nguyễn Văn Anh", ``van an`` finds them too, ``an`` finds
any name with a word beginning with "an", but ``uyen`` does not find "Nguyễn" — or it equals or begins the
member number (member numbers are digits and upper-case letters, so this is case-insensitive too).

**How it is found.** A name of n words has n word starts; each is the start of one of these keys, kept with
the member (all normalized, ``C``-collated on PostgreSQL, so a prefix is one B-tree range):

* word 1 — ``members.name_search``, the whole normalized name;
* word 2 — ``members.name_rest``, the name from its second word on (None for a one-word name);
* words 3 … n−1 — one ``member_name_starts`` row each (only names of four words or more have any);
* word n — the given name, which is the beginning of ``members.sort_key`` (``vietnamese_sort_key``): a
  one-word query matches there exactly when the sort key begins with it. A query of several words can only
  begin before the last word.

So the members matching a query are the union of a few index ranges (plus the member-number range). The
repository reads them that way when there are few; when there are many (``nguyen`` is ~38 % of members) it
splits them: those whose match ends in the name's last word lie in the range of ``sort_key`` that begins with
the query's last word, read in order; the others come from the ranges again when few, else from a walk of
``sort_key`` in order that filters (a page after a few hundred rows for ``nguyen``). See
``repository.list_rows``.
"""

from __future__ import annotations

from dataclasses import dataclass

from shared.text import normalize

_LIKE_SPECIALS = str.maketrans({"\\": "\\\\", "%": "\\%", "_": "\\_"})


def name_rest(name_search: str) -> str | None:
    """The normalized name from its second word on (None for a one-word name)."""
    _, space, rest = name_search.partition(" ")
    return rest if space else None


def name_starts(name_search: str) -> list[str]:
    """The normalized name from each of its words 3 … n−1 on (the ``member_name_starts`` rows)."""
    words = name_search.split(" ")
    return [" ".join(words[k:]) for k in range(2, len(words) - 1)]


def prefix_upper(prefix: str) -> str | None:
    """The least string above every string that begins with ``prefix``, in code-point (= UTF-8 byte, ``C``
    collation) order; None if there is none."""
    while prefix:
        code = ord(prefix[-1])
        if code < 0x10FFFF:
            code += 1
            if 0xD800 <= code <= 0xDFFF:  # surrogates are not characters
                code = 0xE000
            return prefix[:-1] + chr(code)
        prefix = prefix[:-1]
    return None


def _like(text: str) -> str:
    return text.translate(_LIKE_SPECIALS)


@dataclass(frozen=True)
class NameQuery:
    """A search query, normalized, with its LIKE patterns (escaped with ``\\``) and prefix ranges."""

    text: str  # normalized
    number: str  # the member-number prefix (upper case)

    @classmethod
    def parse(cls, query: str | None) -> NameQuery | None:
        """None when the query is absent or normalizes to nothing (no filter)."""
        text = normalize(query or "")
        return cls(text, text.upper()) if text else None

    @property
    def one_word(self) -> bool:
        return " " not in self.text

    @property
    def at_name_start(self) -> str:
        return _like(self.text) + "%"

    @property
    def after_a_space(self) -> str:
        return "% " + _like(self.text) + "%"

    @property
    def then_a_space(self) -> str:
        """At the name's (or key's) start, and a later word follows."""
        return _like(self.text) + "% %"

    @property
    def after_a_space_then_a_space(self) -> str:
        return "% " + _like(self.text) + "% %"

    @property
    def last_word(self) -> str:
        return self.text.rsplit(" ", 1)[-1]

    @property
    def last_word_upper(self) -> str | None:
        return prefix_upper(self.last_word)

    @property
    def number_prefix(self) -> str:
        return _like(self.number) + "%"

    @property
    def upper(self) -> str | None:
        return prefix_upper(self.text)

    @property
    def number_upper(self) -> str | None:
        return prefix_upper(self.number)


def matches(query: NameQuery, name_search: str, member_no: str | None) -> bool:
    """The definition, in Python (the tests check the SQL against it)."""
    name = name_search
    if name.startswith(query.text) or f" {query.text}" in name:
        return True
    return member_no is not None and member_no.upper().startswith(query.number)
