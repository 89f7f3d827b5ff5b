"""The index of one story revision: entities, the phrase vocabulary, facts as triples, roles.

Built once per story object (see `digests.whois.index_for`) and read-only afterwards; every
stage of the pipeline reads it. The story's texts (for questions the vocabulary does not cover)
and the autocomplete keys are built here too, by `texts.build_texts` and
`completion.build_completion`.
"""

from __future__ import annotations

from typing import Any

from digests.story import Event, Role, Story
from digests.textnorm import normalise
from digests.whois import lexicon as lex
from digests.whois.answers.groups import Group, build_groups
from digests.whois.completion import Completion, build_completion
from digests.whois.model import PASSIVE_FACTS, RELATIONS, SYMMETRIC, Entity, Triple
from digests.whois.texts import TextIndex, build_texts


class StoryIndex:
    """Everything needed to answer questions about one story, built once per story."""

    def __init__(self, story: Story) -> None:
        self.story = story
        self.entities: list[Entity] = []
        self.by_id: dict[str, Entity] = {}
        self.phrases: dict[str, list[tuple[str, Any]]] = {}
        self.max_phrase = 1
        self.fuzzy_vocab: dict[str, list[tuple[str, Any]]] = {}
        self.fuzzy_buckets: dict[tuple[str, int], list[str]] = {}
        self.role_holders: dict[str, list[tuple[Entity, Role]]] = {}
        self.roles_at: dict[str, list[tuple[Entity, Role]]] = {}
        self.triples: dict[str, list[Triple]] = {}
        self.events_of: dict[str, list[Event]] = {}
        self.full_names: list[str] = []
        self.full_owner: list[int] = []
        self._build()

    def add_phrase(self, phrase: str, tag: tuple[str, Any]) -> None:
        if not phrase:
            return
        tags = self.phrases.setdefault(phrase, [])
        if tag not in tags:
            tags.append(tag)
        n = phrase.count(" ") + 1
        if n > self.max_phrase:
            self.max_phrase = min(n, 8)

    def add_fuzzy(self, token: str, tag: tuple[str, Any]) -> None:
        if len(token) < 4:
            return
        tags = self.fuzzy_vocab.setdefault(token, [])
        if tag not in tags:
            tags.append(tag)

    def _build(self) -> None:
        story = self.story
        for person in story.people:
            self.add_entity(
                Entity(len(self.entities), person.id, "person", person.name, person, None)
            )
        for org in story.organisations:
            self.add_entity(Entity(len(self.entities), org.id, "organisation", org.name, None, org))
        # A word that is the full name of one entity is not a partial name of another
        # ("OpenAI" in "OpenAI board" means OpenAI).
        for table in (self.phrases, self.fuzzy_vocab):
            for phrase, tags in table.items():
                if any(t[0] == "ent" and t[1][1] == "full" for t in tags):
                    table[phrase] = [t for t in tags if not (t[0] == "ent" and t[1][1] == "part")]
        # Events per entity, weights, triples from facts.
        for event in story.timeline:
            ids: list[str] = [*event.people, *event.organisations]
            for fact in event.facts:
                ids += [x for x in (fact.subject, fact.by, fact.object) if x]
                if fact.predicate in PASSIVE_FACTS:
                    doer, undergoer = fact.by, fact.subject
                else:
                    doer, undergoer = fact.subject or fact.by, fact.object
                self.triples.setdefault(fact.predicate, []).append(
                    Triple(
                        fact.predicate,
                        doer,
                        undergoer,
                        event.date,
                        fact.role,
                        event,
                        None,
                        fact.group,
                    )
                )
            for entity_id in dict.fromkeys(ids):
                if entity_id in self.by_id:
                    self.events_of.setdefault(entity_id, []).append(event)
                    self.by_id[entity_id].weight += 1
        for person in story.people:
            for relation in person.relations:
                kind = relation.type
                if kind == "recruited_by":
                    triple = Triple(
                        "recruited",
                        relation.person,
                        person.id,
                        relation.date,
                        None,
                        None,
                        relation.text,
                    )
                elif kind == "replaced":
                    triple = Triple(
                        "replaced",
                        person.id,
                        relation.person,
                        relation.date,
                        None,
                        None,
                        relation.text,
                    )
                elif kind == "succeeded_by":
                    triple = Triple(
                        "replaced",
                        relation.person,
                        person.id,
                        relation.date,
                        None,
                        None,
                        relation.text,
                    )
                elif kind == "works_with":
                    triple = Triple(
                        "works_with",
                        person.id,
                        relation.person,
                        relation.date,
                        None,
                        None,
                        relation.text,
                    )
                    self.triples.setdefault("works_with", []).append(
                        Triple(
                            "works_with",
                            relation.person,
                            person.id,
                            relation.date,
                            None,
                            None,
                            relation.text,
                        )
                    )
                else:  # cofounded_with
                    triple = Triple(
                        "cofounded_with",
                        person.id,
                        relation.person,
                        relation.date,
                        None,
                        None,
                        relation.text,
                    )
                    self.triples.setdefault("cofounded_with", []).append(
                        Triple(
                            "cofounded_with",
                            relation.person,
                            person.id,
                            relation.date,
                            None,
                            None,
                            relation.text,
                        )
                    )
                self.triples.setdefault(triple.predicate, []).append(triple)
            entity = self.by_id[person.id]
            entity.weight += len(person.roles) + len(person.relations)
            for role in person.roles:
                self.role_holders.setdefault(role.key, []).append((entity, role))
                for title in (role.title.fr, role.title.en):
                    title_tokens = normalise(title).split()
                    if 0 < len(title_tokens) <= 4:
                        phrase = " ".join(title_tokens)
                        if phrase not in lex.STOPWORDS:
                            self.add_phrase(phrase, ("role", role.key))
                            if role.interim:
                                self.add_phrase(phrase, ("interim", ""))
        # Facts of the story's context (background, not dated events): "he urged caution".
        for ctx in story.context:
            for fact in ctx.facts:
                doer = fact.by if fact.predicate in PASSIVE_FACTS else fact.subject or fact.by
                undergoer = fact.subject if fact.predicate in PASSIVE_FACTS else fact.object
                self.triples.setdefault(fact.predicate, []).append(
                    Triple(
                        fact.predicate,
                        doer,
                        undergoer,
                        ctx.as_of,
                        fact.role,
                        None,
                        ctx.text,
                        fact.group,
                        ctx,
                    )
                )
        # Links between organisations (Microsoft shareholder_of OpenAI); partners and rivals
        # go both ways.
        for org in story.organisations:
            for link in org.relations:
                self.triples.setdefault(link.type, []).append(
                    Triple(link.type, org.id, link.organisation, None, None, None, link.text)
                )
                if link.type in SYMMETRIC:
                    self.triples[link.type].append(
                        Triple(link.type, link.organisation, org.id, None, None, None, link.text)
                    )
        # "X preceded Y" is "Y replaced X".
        for triple in self.triples.get("replaced", []):
            self.triples.setdefault("preceded", []).append(
                Triple(
                    "preceded",
                    triple.undergoer,
                    triple.doer,
                    triple.date,
                    triple.role,
                    triple.event,
                    triple.text,
                )
            )
        # Lexicon.
        for key, phrases in lex.ROLE_PHRASES.items():
            for phrase in lex._words(phrases):
                self.add_phrase(phrase, ("role", key))
                if " " not in phrase and len(phrase) >= 5:
                    self.add_fuzzy(phrase, ("role", key))
        for phrase in lex._words(lex.WEAK_HEAD):
            self.add_phrase(phrase, ("weak", "ceo"))
        for pred, phrases in lex.PREDICATE_PHRASES.items():
            for phrase in lex._words(phrases):
                self.add_phrase(phrase, ("pred", pred))
                if " " not in phrase and len(phrase) >= 6:
                    self.add_fuzzy(phrase, ("pred", pred))
        for marker, phrases in lex.MARKERS.items():
            for phrase in lex._words(phrases):
                self.add_phrase(phrase, (marker, ""))
        for phrase in lex.STOPWORDS:
            self.add_phrase(phrase, ("stop", ""))
        # Fuzzy buckets by length: a token is compared with tokens of length +-2 only.
        # Large stories also bucket by first letter (a typo on the first letter is then missed,
        # the price of answering within a few milliseconds over tens of thousands of names).
        self.fuzzy_by_letter = len(self.fuzzy_vocab) > 3000
        by_length: dict[tuple[str, int], list[str]] = {}
        for token in self.fuzzy_vocab:
            letter = token[0] if self.fuzzy_by_letter else ""
            by_length.setdefault((letter, len(token)), []).append(token)
        self.fuzzy_max_length = max((length for _, length in by_length), default=4)
        for letter in {letter for letter, _ in by_length}:
            for length in range(4, self.fuzzy_max_length + 1):
                bucket: list[str] = []
                for other in range(length - 2, length + 3):
                    bucket += by_length.get((letter, other), [])
                if bucket:
                    self.fuzzy_buckets[(letter, length)] = bucket
        for holders in self.role_holders.values():
            holders.sort(key=lambda pair: (-pair[0].weight, pair[0].name))
        self.holders_at: dict[str, list[tuple[Entity, Role]]] = {}
        self.holders_by_key_org: dict[tuple[str, str | None], list[tuple[Entity, Role]]] = {}
        for key, holders in self.role_holders.items():
            for entity, role in holders:
                self.holders_at.setdefault(role.organisation or "", []).append((entity, role))
                self.holders_by_key_org.setdefault((key, role.organisation), []).append(
                    (entity, role)
                )
        # Triples by (predicate, entity involved): a question naming someone only scans theirs.
        self.pred_entity: dict[tuple[str, str], list[Triple]] = {}
        for pred, triple_list in self.triples.items():
            for triple in triple_list:
                involved: set[str | None] = {triple.doer, triple.undergoer}
                if triple.event is not None:
                    involved.update(triple.event.people)
                    involved.update(triple.event.organisations)
                for involved_id in involved:
                    if involved_id:
                        self.pred_entity.setdefault((pred, involved_id), []).append(triple)
        self.relations_of: dict[str, list[Triple]] = {}
        for triple_list in self.triples.values():
            for triple in triple_list:
                if triple.predicate in RELATIONS:
                    for party in {triple.doer, triple.undergoer}:
                        if party:
                            self.relations_of.setdefault(party, []).append(triple)
        self.org_rank = {
            e.id: rank
            for rank, e in enumerate(
                sorted(
                    (e for e in self.entities if e.kind == "organisation"), key=lambda e: -e.weight
                )
            )
        }
        # An organisation named after another one ("OpenAI board", "OpenAI staff") belongs to it.
        self.parent: dict[str, str] = {}
        orgs = [e for e in self.entities if e.kind == "organisation"]
        for child in orgs:
            words = set(normalise(child.name).split())
            for candidate in orgs:
                candidate_words = set(normalise(candidate.name).split())
                if candidate is not child and candidate_words and candidate_words < words:
                    self.parent[child.id] = candidate.id
        people = [e for e in self.entities if e.kind == "person"]
        self.top_person = max(people, key=lambda e: e.weight) if people else None
        self.top_org = max(orgs, key=lambda e: e.weight) if orgs else None
        self.groups: list[Group] = build_groups(self)
        self.texts: TextIndex = build_texts(self)
        self.completion: Completion = build_completion(self)

    # ------------------------------------------------------------------ texts (TF-IDF)

    def add_entity(self, entity: Entity) -> None:
        self.entities.append(entity)
        self.by_id[entity.id] = entity
        tag_of = entity.index
        if entity.person is not None:
            names = [entity.person.name]
            aliases = list(entity.person.aliases)
        else:
            assert entity.organisation is not None
            org = entity.organisation
            names = [org.name]
            if org.local_name is not None:
                names += [org.local_name.fr, org.local_name.en]
            aliases = list(org.aliases)
        seen_full: set[str] = set()
        for position, text in enumerate([*names, *aliases]):
            toks = normalise(text).split()
            if not toks:
                continue
            is_alias = position >= len(names) and entity.kind == "person"
            phrase = " ".join(toks)
            if len(toks) == 1:
                token = toks[0]
                if entity.kind == "organisation":
                    how = "acro" if len(token) <= 3 else "full"
                else:
                    how = "alias" if is_alias else "full"
                self.add_phrase(token, ("ent", (tag_of, how)))
                self.add_fuzzy(token, ("ent", (tag_of, how if how != "acro" else "full")))
                if how == "full":
                    seen_full.add(token)
                continue
            self.add_phrase(phrase, ("ent", (tag_of, "full")))
            self.add_phrase("".join(toks), ("ent", (tag_of, "full")))
            self.add_fuzzy("".join(toks), ("ent", (tag_of, "full")))
            seen_full.add(phrase)
            if entity.kind == "person":
                self.add_phrase(" ".join(reversed(toks)), ("ent", (tag_of, "full")))
                self.add_phrase(toks[0], ("ent", (tag_of, "first")))
                self.add_phrase(toks[-1], ("ent", (tag_of, "last")))
                self.add_fuzzy(toks[0], ("ent", (tag_of, "first")))
                self.add_fuzzy(toks[-1], ("ent", (tag_of, "last")))
                for middle in toks[1:-1]:
                    if middle not in lex.SHORT_FUNCTION:
                        self.add_phrase(middle, ("ent", (tag_of, "part")))
            else:
                for token in toks:
                    if token in lex.SHORT_FUNCTION or len(token) < 3:
                        continue
                    self.add_phrase(token, ("ent", (tag_of, "part")))
                    self.add_fuzzy(token, ("ent", (tag_of, "part")))
        for text in [*names, *aliases]:
            full = normalise(text)
            if full:
                self.full_names.append(full)
                self.full_owner.append(tag_of)
