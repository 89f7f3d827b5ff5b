"""The router: analyse a question, then hand it to one family of answers (`answers/`)."""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING

from digests.formatting import format_long
from digests.i18n import Messages
from digests.story import Lang
from digests.textnorm import (
    MAX_INPUT,
    clean,
    neutralise,
)
from digests.whois.analysis import boss_question, content_word, parse, question_shape, verb_slot
from digests.whois.answers.groups import described_group, group_answer
from digests.whois.answers.identity import identity_answer
from digests.whois.answers.organisation_of import organisation_answer, organisation_question
from digests.whois.answers.refusals import bad_date, no_data, not_covered, not_found, usage
from digests.whois.answers.relations import boss_answer
from digests.whois.answers.role_at_date import (
    before_after_person,
    query_role,
    query_role_relative,
    role_answer,
)
from digests.whois.answers.sources import asks_for_source, fact_sources
from digests.whois.answers.statements import statements_answer, statements_question
from digests.whois.answers.who_did_what import (
    choose_predicate,
    event_answer,
    query_predicate,
    text_answer,
)
from digests.whois.mentions import resolve, span_text
from digests.whois.model import ORG_LINKS, SPEECH, Entity, Query, WhoAnswer
from digests.whois.render import with_note
from digests.whois.texts import retrieve

if TYPE_CHECKING:
    from digests.whois.index import StoryIndex

GRACE_DAYS = 31  # how far before its first day a story still describes the situation


def answer_question(ix: StoryIndex, question: str, lang: Lang, today: dt.date | None) -> WhoAnswer:
    q = parse(ix, question)
    echo = neutralise(clean(question[: MAX_INPUT * 4]))[:300]  # as typed, mentions defused
    if not q.tokens:
        return usage(ix, echo, lang)
    if q.bad_date is not None:
        return bad_date(ix, echo, lang, q.bad_date)
    accepted, rejected, unknown = resolve(ix, q)
    now = today if today is not None else ix.story.last_day
    q.known_by = now
    if any(score >= 0.9 for _, score, _ in accepted):
        # A name of the story is certainly asked about: a lone capitalised word next to it
        # ("Who is Sam Altman, the Guy everyone cites?") is not taken for an unknown person.
        unknown = [u for u in unknown if u[1] != 1]
    if unknown:
        return not_found(ix, echo, lang, unknown[0][0], rejected, accepted)
    as_of = now
    if q.date is not None:
        as_of = q.date.day + dt.timedelta(days={"on": 0, "before": -1, "after": 1}[q.date.relation])
    # Outside the story's days: before (beyond a short margin) nothing is known; after its
    # last day, the answer is given as of that last day, and says so.
    first, last = ix.story.first_day, ix.story.last_day
    coverage: str | None = None
    if as_of < first - dt.timedelta(days=GRACE_DAYS):
        coverage = "before"
    elif as_of > last:
        coverage = "after"
        as_of = last
    elif as_of < first:
        coverage = "early"
    result = dispatch(ix, echo, lang, q, accepted, rejected, as_of, coverage)
    if coverage in ("after", "early") and result.found:
        _t = Messages(lang, domain="whois")
        note = (
            _t(
                "The story ends on %(last)s: this answer is as of that day.",
                last=format_long(last, lang),
            )
            if coverage == "after"
            else _t(
                "The story begins on %(first)s: it only tells the situation as it stood then.",
                first=format_long(first, lang),
            )
        )
        result = with_note(ix, result, note)
    return result


def dispatch(
    ix: StoryIndex,
    echo: str,
    lang: Lang,
    q: Query,
    accepted: list[tuple[Entity, float, int]],
    rejected: list[Entity],
    as_of: dt.date,
    coverage: str | None,
) -> WhoAnswer:
    persons = [a for a in accepted if a[0].kind == "person"]
    orgs = [a for a in accepted if a[0].kind == "organisation"]
    subject_first = question_shape(ix, q)

    # 0. "Who reported that ...", "according to whom ...": the source of the fact described,
    # then the source of the matching text.
    if asks_for_source(q, subject_first) and coverage != "before":
        sources = fact_sources(ix, q, accepted)
        named_sources = [s for s in sources if s[0] in ix.by_id]
        if named_sources:
            return event_answer(ix, echo, lang, q, "reported", named_sources, accepted, as_of)
        if sources:
            return group_answer(ix, echo, lang, [t for _, t, _ in sources], as_of)
    if subject_first == "report" and coverage != "before":
        found = retrieve(ix, q, accepted, report=True)
        if found and found[0][1] >= 0.3:
            return text_answer(ix, echo, lang, q, found, accepted, as_of)
    # 0a. "What did Nadella say?": the person's own words and statements.
    speaker = statements_question(ix, q, accepted, subject_first)
    if speaker is not None and coverage != "before":
        said = statements_answer(ix, echo, lang, q, speaker, accepted, as_of)
        if said is not None:
            return said
    # 0b. "boss of <person>": who recruited them, or the head of their organisation.
    boss = boss_question(ix, q, accepted)
    if boss is not None:
        return boss_answer(ix, echo, lang, q, boss, accepted, as_of, coverage)
    # 0c. "Which company is Shear CEO of?", "where did Altman go?": the person's organisations.
    asked_person = organisation_question(ix, q, persons, orgs)
    if asked_person is not None and coverage != "before":
        found_orgs = organisation_answer(ix, echo, lang, q, asked_person, accepted, as_of)
        if found_orgs is not None:
            return found_orgs
    # 0d. A verb the vocabulary does not know ("disapproved", "wants to reunite"), the
    # known words being nouns or names: the story's texts decide.
    content = [i for i in range(len(q.tokens)) if not q.explained[i] and content_word(ix, q, i)]
    specific_role = any(not weak for _, _, weak in q.roles)
    if (
        content
        and subject_first not in ("identity", "none")
        and not specific_role
        and (
            all(p in q.nominal for p, _, _ in q.preds)
            or content[0] == verb_slot(ix, q)  # the unknown word is the main verb
        )
        and coverage != "before"
    ):
        found = retrieve(ix, q, accepted, report=False)
        if found and found[0][1] >= 0.35:
            return text_answer(ix, echo, lang, q, found, accepted, as_of)
    if coverage == "before" and (q.roles or q.preds) and not (q.preds and q.date is None):
        return not_covered(ix, echo, lang, as_of, accepted)

    # 0e. A group the source does not name, described by the question ("the three scientists").
    # "Who are they?" says the source does not name them; "whom did they join?" answers with
    # what they did; "who left with them?" is about someone else (their group is not an answer).
    described = described_group(ix, q, accepted, as_of)
    reference = described is not None and described.part == "reference"
    if described is not None and described.part == "subject":
        asked_preds = {p for _, p, _ in q.preds}
        done = [
            (t.undergoer, t, 1.0)
            for t in described.triples
            if t.predicate in asked_preds and t.undergoer in ix.by_id
        ]
        if done:
            return event_answer(ix, echo, lang, q, done[0][1].predicate, done, accepted, as_of)
    if described is not None and not reference:
        return group_answer(ix, echo, lang, described.triples, as_of)

    # 1. Events and relations.
    if q.preds:
        # The main verb: the first verb, speech verbs ("said", "a déclaré") only when alone.
        verbs = [p for p in q.preds if not p[2]]
        specific_verbs = [p for p in verbs if p[1] not in SPEECH]
        pos, pred, noun = choose_predicate(
            ix, q, sorted(specific_verbs or verbs or q.preds), accepted
        )
        results = query_predicate(ix, q, pred, pos, noun, accepted)
        named = [r for r in results if r[0] in ix.by_id]
        asked = {e.id for e, _, _ in accepted}
        if (
            pred not in ORG_LINKS  # "de quelle entreprise Microsoft est-il actionnaire ?"
            and q.has("what")
            and not q.has("who")
            and all(t.doer in asked for _, t, _ in named)
        ):
            named = []  # "what do the investors want?": about them, not whom they want
        unnamed = [r for r in results if r[0] not in ix.by_id]
        if reference:
            unnamed = []
        elif unnamed and named and unnamed[0][2] > named[0][2]:
            # An unnamed group fits better than anyone named ("which scientists resigned?",
            # another role for Brockman): it answers when the question describes it at all.
            loose = described_group(ix, q, accepted, as_of, minimum=1)
            if loose is not None and unnamed[0][1] in loose.triples:
                return group_answer(ix, echo, lang, [t for _, t, _ in unnamed], as_of)
        if named:
            also = [t for _, t, _ in unnamed]
            return event_answer(ix, echo, lang, q, pred, named, accepted, as_of, also)
        if unnamed and subject_first != "none":  # only a group the source does not name did it
            return group_answer(ix, echo, lang, [triple for _, triple, _ in unnamed], as_of)
        if persons:
            return identity_answer(ix, echo, lang, persons[0][0], accepted, as_of, q, no_event=True)
    # 2. Roles.
    specific = [r for r in q.roles if not r[2]]
    role = sorted(specific or q.roles)[0] if q.roles else None
    if role is not None:
        key = role[1]
        anchor = before_after_person(ix, q, persons)
        if anchor is not None:
            person, direction = anchor
            result = query_role_relative(ix, q, key, orgs, person, direction)
            if result:
                return role_answer(ix, echo, lang, q, key, orgs, result, accepted)
        if not persons or (key == "cofounder" and persons and orgs):
            result = query_role(ix, q, key, orgs, as_of, exclude={p[0].id for p in persons})
            if result is not None:
                return role_answer(ix, echo, lang, q, key, orgs, result, accepted)
            if not persons:
                # "who is the CEO of Google?" when the story names none: say so, do not
                # answer with something else.
                return no_data(ix, echo, lang, accepted)
    # 3. Links between two entities.
    if q.has("link") and len(accepted) >= 2:
        first = min(accepted[:3], key=lambda a: a[2])
        others = [a[0] for a in accepted if a[0] is not first[0]]
        return identity_answer(
            ix, echo, lang, first[0], accepted, as_of, q, link=others[0], intent="relation"
        )
    # 4. Identity.
    if accepted:
        top = accepted[0]
        if q.has("what") and orgs and not q.has("who"):
            top = orgs[0]
        return identity_answer(ix, echo, lang, top[0], accepted, as_of, q)
    if q.preds or q.roles:
        return no_data(ix, echo, lang, accepted)
    weak = q.markers.get("weak_unknown")
    if weak:
        return not_found(ix, echo, lang, span_text(ix, q, weak[0], weak[0] + 1), rejected, accepted)
    return not_found(ix, echo, lang, None, rejected, accepted)
