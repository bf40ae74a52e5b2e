"""Member search (``GET /v1/members?q=``): word starts of the name, without diacritics or case, or the start
of the member number; the same answers whichever way the repository reads them (index ranges or a walk of the
sort order), page by page."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from services.orgs.members import repository, search
from services.orgs.members.models import Member, MemberNameStart
from services.orgs.tests.conftest import Tree
from services.orgs.tests.test_members import People
from shared.text import normalize, vietnamese_sort_key

# name → member number (or None); admitted into NA.HD.XA.C1 unless the name is in ELSEWHERE.
NAMES: dict[str, str | None] = {
    "Nguyễn Văn An": "012345NA",
    "Nguyễn Văn Anh": "012399HN",
    "Lê Văn An": None,
    "Trần Thị Nguyệt": "123456HN",
    "Triệu Thị Nguyệt": None,
    "Nguyễn Thị Thu Hà": None,  # four words: word 3 is in member_name_starts
    "Tôn Nữ Thị Minh Châu": None,  # five words: words 3 and 4
    "Phạm Quỳnh": None,  # two words
    "Siu": None,  # one word
    "Đặng Văn Đức": None,
    "Hoàng Anh Tuấn": None,
}
ELSEWHERE = {"Lê Văn An", "Hoàng Anh Tuấn"}  # in NA.TC.XB.C2
QUERIES = (
    "nguyen van an",
    "van an",
    "an",
    "AN",
    "anh",
    "uyen",
    "guyen",
    "nguyen",
    "nguyet",
    "trieu thi nguyet",
    "Triệu THỊ   nguyệt",
    "thi",
    "thu ha",
    "thi thu",
    "ha",
    "minh chau",
    "thi minh",
    "nu thi minh chau",
    "ton nu",
    "quynh",
    "pham quynh",
    "siu",
    "duc",
    "dang van duc",
    "van duc x",
    "0123",
    "012345na",
    "012345NA",
    "12345",
    "2345",
    "1",
    "an%",
    "a_",
    "z",
)


@pytest.fixture
async def people(small_tree: Tree) -> People:
    crowd = People(small_tree)
    for name, number in NAMES.items():
        org = "NA.TC.XB.C2" if name in ELSEWHERE else "NA.HD.XA.C1"
        extra = {"member_no": number} if number else {}
        gender = "female" if " Thị " in f" {name} " or name == "Siu" else "male"
        await crowd.admit(name, org, gender=gender, **extra)
    return crowd


def expected(query: str) -> list[str]:
    """The definition applied to every member, in the list's order (sort key, then id: names are unique)."""
    q = search.NameQuery.parse(query)
    assert q is not None
    found = [name for name, number in NAMES.items() if search.matches(q, normalize(name), number)]
    return sorted(found, key=vietnamese_sort_key)


def test_the_definition() -> None:
    assert expected("nguyen van an") == ["Nguyễn Văn An", "Nguyễn Văn Anh"]
    assert expected("van an") == ["Lê Văn An", "Nguyễn Văn An", "Nguyễn Văn Anh"]
    assert expected("an") == ["Lê Văn An", "Nguyễn Văn An", "Nguyễn Văn Anh", "Hoàng Anh Tuấn"]
    assert expected("uyen") == [] and expected("guyen") == []
    assert expected("thu ha") == ["Nguyễn Thị Thu Hà"]
    assert expected("minh chau") == ["Tôn Nữ Thị Minh Châu"]
    assert expected("0123") == ["Nguyễn Văn An", "Nguyễn Văn Anh"]
    assert expected("012345na") == ["Nguyễn Văn An"]
    assert expected("12345") == ["Trần Thị Nguyệt"] and expected("2345") == []
    assert expected("an%") == [] and expected("a_") == []


def test_keys() -> None:
    assert search.name_rest("ton nu thi minh chau") == "nu thi minh chau"
    assert search.name_rest("siu") is None
    assert search.name_starts("ton nu thi minh chau") == ["thi minh chau", "minh chau"]
    assert search.name_starts("nguyen thi thu ha") == ["thu ha"]
    assert search.name_starts("nguyen van an") == []
    assert search.prefix_upper("an") == "ao"
    assert search.prefix_upper("a\U0010ffff") == "b"
    assert search.prefix_upper("\U0010ffff") is None
    assert search.prefix_upper("a\ud7ff") == "a\ue000"
    assert search.NameQuery.parse("  ") is None and search.NameQuery.parse(None) is None


@pytest.mark.parametrize(
    "candidates", [repository.SEARCH_CANDIDATES, 1, 0], ids=["ranges", "ranges-and-last-word", "walk"]
)
async def test_search_by_word_start(people: People, monkeypatch: pytest.MonkeyPatch, candidates: int) -> None:
    monkeypatch.setattr(repository, "SEARCH_CANDIDATES", candidates)
    for query in QUERIES:
        assert await people.names(q=query) == expected(query), query
        # one member per page: the cursor carries on in the same order
        assert await people.names(q=query, limit="1") == expected(query), query


@pytest.mark.parametrize("candidates", [repository.SEARCH_CANDIDATES, 1], ids=["ranges", "walk"])
async def test_search_with_the_other_filters(
    people: People, monkeypatch: pytest.MonkeyPatch, candidates: int
) -> None:
    monkeypatch.setattr(repository, "SEARCH_CANDIDATES", candidates)
    ids = people.tree.ids
    assert await people.names(q="an", org_id=ids["NA.TC.XB.C2"]) == ["Lê Văn An", "Hoàng Anh Tuấn"]
    assert await people.names(q="an", within=ids["NA.HD"], limit="1") == ["Nguyễn Văn An", "Nguyễn Văn Anh"]
    await people.act("Nguyễn Văn An", "departure", {"reason": "withdrawn", "effective_on": "2023-01-01"})
    assert await people.names(q="nguyen van an") == ["Nguyễn Văn Anh"]
    assert await people.names(q="nguyen van an", status="all") == ["Nguyễn Văn An", "Nguyễn Văn Anh"]
    assert await people.names(q="nguyen van an", as_of="2022-06-30") == ["Nguyễn Văn An", "Nguyễn Văn Anh"]
    organizer = people.svc.auth(["organizer"], org_scope=ids["NA.TC"])
    assert await people.names(q="an", headers=organizer) == ["Lê Văn An", "Hoàng Anh Tuấn"]


async def test_search_keys_are_written_with_the_member(people: People) -> None:
    async with people.svc.app.state.db.session() as s:
        rest = dict((await s.execute(select(Member.full_name, Member.name_rest))).all())
        starts = (
            await s.execute(select(MemberNameStart.name_start).order_by(MemberNameStart.name_start))
        ).all()
    assert rest["Tôn Nữ Thị Minh Châu"] == "nu thi minh chau" and rest["Siu"] is None
    assert rest["Phạm Quỳnh"] == "quynh"
    assert [s for (s,) in starts] == ["minh chau", "thi minh chau", "thu ha"]
