"""Date expressions in questions, French and English: "18 novembre 2023", "Nov 18", "18/11",
"2023-11-18", "le 18", "samedi", "the weekend", "le lendemain", "avant le 17".
"""

from __future__ import annotations

import datetime as dt
import re
from typing import TYPE_CHECKING, Literal

from digests.textnorm import (
    neutralise,
)
from digests.whois import lexicon as lex
from digests.whois.model import DateSpec, Query

if TYPE_CHECKING:
    from digests.whois.index import StoryIndex

DAY_TOKEN = re.compile(r"^(\d{1,2})(st|nd|rd|th|er|re|e|eme)?$")
YEAR_TOKEN = re.compile(r"^(19|20|21)\d\d$")


def numeric_pair(q: Query, position: int) -> bool:
    """Are the words at ``position`` and the next one written as "18/11" or "18.11"?"""
    if q.spans is None or position + 1 >= len(q.spans):
        return False
    return q.text[q.spans[position][1] : q.spans[position + 1][0]] in ("/", ".", "-")


def spelled_date_follows(toks: list[str], position: int) -> bool:
    """ "Sunday, November 19", "samedi 18 novembre": the full date that follows a weekday wins."""
    ahead = toks[position : position + 3]
    return any(t in lex.MONTHS for t in ahead[:2]) and any(t.isdigit() for t in ahead)


def parse_date(ix: StoryIndex, q: Query) -> None:
    toks = q.tokens
    story = ix.story
    first_day = story.first_day
    found: tuple[int, int, dt.date] | None = None  # start, end, day
    offset = 0
    offset_span: tuple[int, int] | None = None
    bad: list[tuple[int, int]] = []  # spans of dates that do not exist
    at = [0, 0]  # the span `make` is asked about

    def make(year: int | None, month: int, day: int) -> dt.date | None:
        try:
            candidate = dt.date(year or first_day.year, month, day)
        except ValueError:
            bad.append((at[0], at[1]))
            return None
        if year is None and (candidate - first_day).days > 200:
            candidate = candidate.replace(year=candidate.year - 1)
        elif year is None and (first_day - candidate).days > 200:
            try:
                candidate = candidate.replace(year=candidate.year + 1)
            except ValueError:
                return None
        return candidate

    def day_of(token: str) -> int | None:
        match = DAY_TOKEN.match(token)
        if match and 1 <= int(match.group(1)) <= 31:
            return int(match.group(1))
        return None

    def year_at(position: int) -> int | None:
        if position < len(toks) and YEAR_TOKEN.match(toks[position]):
            return int(toks[position])
        return None

    n = len(toks)
    i = 0
    while i < n and found is None:
        tok = toks[i]
        nxt = toks[i + 1] if i + 1 < n else ""
        # Relative days: "le lendemain", "the day after", "premier jour", "la veille".
        for size in (4, 3, 2, 1):
            phrase = " ".join(toks[i : i + size])
            if (
                len(toks[i : i + size]) == size
                and phrase in lex.RELATIVE_DAYS
                and offset_span is None
            ):
                offset = lex.RELATIVE_DAYS[phrase]
                offset_span = (i, i + size)
                break
            if (
                phrase in ("veille", "la veille", "the day before", "day before")
                and offset_span is None
            ):
                offset = -1
                offset_span = (i, i + size)
                break
        if offset_span is not None and offset_span[0] == i:
            i = offset_span[1]
            continue
        at[0], at[1] = i, min(n, i + (3 if i + 2 < n and toks[i + 2].isdigit() else 2))
        if tok.isdigit() and 31 < int(tok) < 100 and nxt in lex.MONTHS:
            bad.append((i, i + 2))  # "le 32 novembre"
        if tok in lex.MONTHS and nxt.isdigit() and 31 < int(nxt) < 100:
            bad.append((i, i + 2))  # "November 32"
        if YEAR_TOKEN.match(tok) and i + 2 < n and toks[i + 1].isdigit() and toks[i + 2].isdigit():
            day = make(int(tok), int(toks[i + 1]), int(toks[i + 2]))
            if day:
                found = (i, i + 3, day)
                break
        d = day_of(tok)
        if d is not None and nxt in lex.MONTHS:
            year = year_at(i + 2)
            day = make(year, lex.MONTHS[nxt], d)
            if day:
                found = (i, i + 2 + (year is not None), day)
                break
        if d is not None and nxt == "of" and i + 2 < n and toks[i + 2] in lex.MONTHS:
            year = year_at(i + 3)  # "the 16th of November (2023)"
            day = make(year, lex.MONTHS[toks[i + 2]], d)
            if day:
                found = (i, i + 3 + (year is not None), day)
                break
        after_year = i > 0 and YEAR_TOKEN.match(toks[i - 1]) and numeric_pair(q, i - 1)
        if (
            tok.isdigit()
            and nxt.isdigit()
            and not year_at(i + 2)
            and not after_year  # "2023-14-02" is one (impossible) date, not "14-02"
            and numeric_pair(q, i)
        ):
            a, b = int(tok), int(nxt)  # "18/11": day/month; "11/18": month/day when it must be
            at[0], at[1] = i, i + 2
            if 1 <= b <= 12 and 1 <= a <= 31:
                day = make(None, b, a)
            elif 1 <= a <= 12 and 1 <= b <= 31:
                day = make(None, a, b)
            else:
                day = None
                bad.append((i, i + 2))
            if day:
                found = (i, i + 2, day)
                break
        if tok in lex.MONTHS and nxt and day_of(nxt) is not None:
            year = year_at(i + 2)
            day = make(year, lex.MONTHS[tok], day_of(nxt) or 1)
            if day:
                found = (i, i + 2 + (year is not None), day)
                break
        if (
            d is not None
            and tok.isdigit()
            and i + 2 < n
            and toks[i + 1].isdigit()
            and YEAR_TOKEN.match(toks[i + 2])
        ):
            a, b = int(tok), int(toks[i + 1])
            day = make(int(toks[i + 2]), b, a) if b <= 12 else make(int(toks[i + 2]), a, b)
            if day:
                found = (i, i + 3, day)
                break
        if tok in lex.WEEKDAYS and not spelled_date_follows(toks, i + 1):
            target = lex.WEEKDAYS[tok]
            day = first_day + dt.timedelta(days=(target - first_day.weekday()) % 7)
            found = (i, i + 1, day)
            break
        weekend = next(
            (
                size
                for size in (3, 2, 1)
                if " ".join(toks[i : i + size]) in lex.WEEKEND and len(toks[i : i + size]) == size
            ),
            0,
        )
        if weekend:
            day = first_day + dt.timedelta(days=(5 - first_day.weekday()) % 7)
            found = (i, i + weekend, day)
            break
        if (
            d is not None
            and i > 0
            and toks[i - 1] in ("le", "the", "du", "au")
            and (
                not tok.isdigit()
                or (i + 1 >= n or toks[i + 1] not in ("cadres", "employees", "employes"))
            )
            and not (
                i + 1 < n and (toks[i + 1].isdigit() or toks[i + 1] in ("percent", "pour", "cent"))
            )
        ):
            day = make(None, first_day.month, d)
            if day:
                found = (i, i + 1, day)
                break
        i += 1
    if found is None and bad:
        start, end = bad[0]
        if q.spans is not None and end <= len(q.spans):
            q.bad_date = neutralise(q.text[q.spans[start][0] : q.spans[end - 1][1]])[:40]
        else:
            q.bad_date = " ".join(toks[start:end])
        return
    if found is None and offset_span is None:
        for position, token in enumerate(toks):
            if YEAR_TOKEN.match(token) and not q.explained[position]:
                year = int(token)
                month = lex.MONTHS.get(toks[position - 1]) if position > 0 else None
                if month is not None:  # "in October 2023": that month's last day
                    after = dt.date(year + month // 12, month % 12 + 1, 1)
                    last_of_month = after - dt.timedelta(days=1)
                    if last_of_month < first_day or dt.date(year, month, 1) > story.last_day:
                        found = (position - 1, position + 1, last_of_month)
                        break
                if year < first_day.year:
                    found = (position, position + 1, dt.date(year, 12, 31))
                elif year == first_day.year:
                    found = (position, position + 1, first_day - dt.timedelta(days=1))
                else:
                    found = (position, position + 1, dt.date(year, 1, 1))
                break
    if found is None and offset_span is None:
        return
    if found is None:
        assert offset_span is not None
        start, end = offset_span
        day = first_day + dt.timedelta(days=offset)
    else:
        start, end, day = found
        day = day + dt.timedelta(days=offset)
        if offset_span is not None:
            for position in range(*offset_span):
                q.explained[position] = True
    relation: Literal["on", "before", "after"] = "on"
    look = start
    while (
        look > 0
        and (
            toks[look - 1] in ("le", "the", "du", "l", "de", "on", "of")
            or toks[look - 1] in lex.WEEKDAYS  # "on Sunday, November 19"
            # "sam. 18 nov.": an abbreviated weekday only right before a date ("Sam" is a name)
            or toks[look - 1] in lex.WEEKDAY_ABBREVIATIONS
        )
        and start - look < 3
    ):
        look -= 1
    for size in (3, 2, 1):
        if look - size < 0:
            continue
        phrase = " ".join(toks[look - size : look])
        if phrase in lex.DATE_RELATIONS:
            rel = lex.DATE_RELATIONS[phrase]
            if phrase in ("until", "jusqu au", "jusqu a", "up to"):
                rel = "on"
            relation = rel  # type: ignore[assignment]
            for position in range(look - size, look):
                q.explained[position] = True
            break
    for position in range(look, end):
        q.explained[position] = True
    for position in range(start, end):
        q.explained[position] = True
    q.date = DateSpec(day, relation)
