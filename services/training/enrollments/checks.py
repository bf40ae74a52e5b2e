"""The rulebook's eligibility checks of an enrollment (Regulation 350-QĐ/TW): findings, never refusals.

Only programmes of kind ``political_theory`` are checked. Each check reads its rule in force on the
enrollment's ``sent_on`` (before the regulation applies no rule is in force, so nothing is found).

* ``enrollment.intermediate_party_member`` (intermediate): the cadre has no Party member record;
* ``enrollment.intermediate_min_education`` (intermediate): education below the rule's (college);
* ``enrollment.advanced_posts`` (advanced): the cadre neither holds on ``sent_on`` nor is planned for then a
  post whose organization's level and whose category the rule lists;
* ``enrollment.in_service_intermediate_min_age`` (intermediate, course ``mode = in_service``): younger than
  the rule's age for the cadre's gender on the course's ``starts_on``;
* ``enrollment.not_already_attained`` (every level): the attained level on ``sent_on`` is already that level
  or higher.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from sqlalchemy.engine import RowMapping
from sqlalchemy.ext.asyncio import AsyncSession

from services.training.enrollments import repository as repo
from services.training.levels import education_rank, theory_name
from shared.rulebook import Finding, Rulebook, finding


def age_on(birth_date: dt.date, day: dt.date) -> int:
    """Full years of age on the day."""
    return day.year - birth_date.year - ((day.month, day.day) < (birth_date.month, birth_date.day))


@dataclass
class Proposal:
    cadre: RowMapping  # the projected cadre
    course: RowMapping  # the course with its programme's kind, level and rank
    sent_on: dt.date
    attained_rank: int  # on sent_on


async def findings_for(session: AsyncSession, rulebook: Rulebook, p: Proposal) -> list[Finding]:
    course, cadre, day = p.course, p.cadre, p.sent_on
    if course["programme_kind"] != "political_theory" or course["theory_level"] is None:
        return []
    level, name = course["theory_level"], cadre["full_name"]
    found: list[Finding] = []
    if level == "intermediate":
        rule = rulebook.find("enrollment.intermediate_party_member", day)
        if rule is not None and rule.value and cadre["member_id"] is None:
            found.append(
                finding(rule, f"{name} is not a Party member: intermediate theory is for Party members.")
            )
        rule = rulebook.find("enrollment.intermediate_min_education", day)
        if rule is not None and education_rank(cadre["education"]) < education_rank(str(rule.value)):
            found.append(
                finding(
                    rule,
                    f"{name}'s education ({cadre['education']}) is below {rule.value}, "
                    "which intermediate theory needs.",
                )
            )
        rule = rulebook.find("enrollment.in_service_intermediate_min_age", day)
        if (
            rule is not None
            and course["mode"] == "in_service"
            and cadre["birth_date"] is not None
            and cadre["gender"] in rule.value
        ):
            minimum = int(rule.value[cadre["gender"]])
            age = age_on(cadre["birth_date"], course["starts_on"])
            if age < minimum:
                found.append(
                    finding(
                        rule,
                        f"{name} is {age} on {course['starts_on'].isoformat()}, when the course starts: "
                        f"in-service intermediate theory is from age {minimum} ({cadre['gender']}).",
                    )
                )
    if level == "advanced":
        rule = rulebook.find("enrollment.advanced_posts", day)
        if rule is not None:
            levels, categories = set(rule.value["levels"]), set(rule.value["categories"])
            posts = await repo.posts_of(session, cadre["id"], day)
            if not any(post["org_level"] in levels and post["category"] in categories for post in posts):
                found.append(
                    finding(
                        rule,
                        f"{name} neither holds nor is planned for, on {day.isoformat()}, a leadership post "
                        f"of an organization of level {' or '.join(rule.value['levels'])}: advanced theory "
                        "is for them.",
                    )
                )
    rule = rulebook.find("enrollment.not_already_attained", day)
    if rule is not None and rule.value and p.attained_rank >= int(course["theory_rank"]):
        found.append(
            finding(
                rule,
                f"{name} has already attained {theory_name(p.attained_rank)} theory by {day.isoformat()}.",
            )
        )
    return found
