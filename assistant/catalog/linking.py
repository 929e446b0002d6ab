"""From a question to the catalog entities it means, each with how strongly and why.

An entity is linked by:
- its whole name or title ("backchat plugin", "StorageManager API"): strength 1;
- some of its name's words ("the search service" -> `acme-metadata-search-service`), misspelled ones
  included (rapidfuzz), or the acronym of a name of three words or more: the share of the name's
  information the question matched, each word weighed by how telling it is among all names
  (`Vocabulary.weight`), so a word every name shares adds nothing;
- a kind or `spec.type` word right next to those words ("the datastore *module*") counts as one more
  matched word of an entity it fits, and as one word more to explain for an entity it does not fit
  ("the tracking *website*" is not the tracking API), weighed by how rare that kind or type is.

Words that say a relation (`assistant.catalog.questions`: "who *provides* it?") are the relation, not name
words: they do not link `email-provider`; a whole name or title is matched wherever it stands.

Name words and the kind word next to them that fit one entity only ("the search *service*", the one
service with "search" in its name) identify it: such a link is at least `LINKED`, however long the rest of
its name.

A link of strength `LINKED` or more counts as naming the entity: it lifts the entity's sources and anchors
relation questions. The strength is shown in every source's `why`.
"""

from __future__ import annotations

import itertools
import re
from dataclasses import dataclass, replace
from functools import cached_property

from rapidfuzz import fuzz, process
from rapidfuzz.distance import OSA

from assistant.catalog.questions import relation_spans
from assistant.catalog.vocabulary import Vocabulary
from assistant.catalog.words import PRO_FORMS, Word, normalise, stem, words

LINKED = 0.5
FUZZY_CUTOFF = 85  # rapidfuzz ratio: two slips in a word of a dozen letters; one slip is always near
MIN_FUZZY_CHARS = 5
MIN_REPORTED = 0.2
ACRONYM_STRENGTH = 0.9  # an acronym is nearly a name, but short letter runs collide more often
NAMED, BY_WORDS, BY_ACRONYM = "named in the question", "linked by name words", "linked by acronym"
FROM_CONVERSATION = "referred to from the conversation"
IN_THE_QUESTION = "referred to earlier in the question"
ONE_OF = "one of those the conversation listed"


@dataclass(frozen=True)
class Link:
    entity: str
    strength: float
    start: int  # where the question names it (normalised question)
    end: int
    how: str  # NAMED, BY_WORDS, BY_ACRONYM, FROM_CONVERSATION, IN_THE_QUESTION or ONE_OF
    said: str

    def describe(self) -> str:
        return f"{self.how} '{self.said}' ({self.strength:.2f})"


class EntityLinker:
    def __init__(self, vocabulary: Vocabulary) -> None:
        self.vocabulary = vocabulary
        self._spelled = sorted(vocabulary.spelled)

    @cached_property
    def _label_pattern(self) -> re.Pattern[str] | None:
        labels = sorted(self.vocabulary.labels, key=len, reverse=True)
        if not labels:
            return None
        alternatives = "|".join(re.escape(label) for label in labels)
        return re.compile(rf"(?<![a-z0-9])({alternatives})(?![a-z0-9])")

    def linked(self, question: str) -> list[Link]:
        """The links strong enough to name their entity (`LINKED`)."""
        return [link for link in self.link(question) if link.strength >= LINKED]

    def link(self, question: str) -> list[Link]:
        """Candidate entities for a question, strongest first."""
        normalised = normalise(question)
        found: dict[str, Link] = {}
        spoken_for: list[tuple[int, int]] = []
        sequence = words(normalised)
        if self._label_pattern is not None:
            for match in self._label_pattern.finditer(normalised):
                heads = self._heads(sequence, *match.span())
                said = words(match.group(1))
                one_kind_word = len(said) == 1 and said[0].stem in self.vocabulary.kind_words
                for entity in sorted(self.vocabulary.labels[match.group(1)]):
                    own = self.vocabulary.entity_words.get(entity, set())
                    # "what type of API is x?": the kind, not a component named "api", unless a kind word says
                    # "the api component"; a resource named after its own type ("kafka", of type kafka) is
                    # what the word means, unless a kind word beside it says another ("the kafka *topics*")
                    if one_kind_word and not (heads & own if heads else said[0].stem in own):
                        continue
                    strength = self._strength(entity, 1.0, heads)
                    found[entity] = Link(entity, strength, match.start(), match.end(), NAMED, match.group(1))
                    if strength >= LINKED:  # its words are spoken for; "the artists *database*" is not
                        spoken_for.append(match.span())  # the artists domain, so they stay free
        spoken_for += relation_spans(normalised)  # "who *provides* it?" is not about `email-provider`
        free = [w for w in sequence if not w.function and w.text not in PRO_FORMS and not _inside(w, spoken_for)]
        for word in free:  # a name written as one word: "queueproxy" for `queue-proxy`
            for entity in self.vocabulary.joined.get(word.text, ()):
                strength = self._strength(entity, 1.0, self._heads(sequence, word.start, word.end))
                if entity not in found or strength > found[entity].strength:
                    found[entity] = Link(entity, strength, word.start, word.end, NAMED, word.text)
        for link in self._partial(normalised, sequence, free):
            if link.entity not in found or link.strength > found[link.entity].strength:
                found[link.entity] = link
        return sorted(found.values(), key=lambda link: (-link.strength, link.start, link.entity))

    def _partial(self, normalised: str, sequence: list[Word], free: list[Word]) -> list[Link]:
        vocabulary = self.vocabulary
        matched: dict[str, dict[str, tuple[float, Word]]] = {}  # entity -> part -> (how sure, the word)
        acronyms: dict[str, Word] = {}
        for word, part, sureness in self._candidate_parts(free):
            for entity in vocabulary.by_part.get(part, ()):
                previous = matched.setdefault(entity, {}).get(part)
                if previous is None or sureness > previous[0]:
                    matched[entity][part] = (sureness, word)
        for word in free:
            if word.stem not in vocabulary.by_part and word.stem not in vocabulary.kind_words:
                for entity in vocabulary.acronyms.get(word.text, ()):
                    acronyms[entity] = word
        links = []
        spans: dict[str, frozenset[int]] = {}  # entity -> where the question words that matched it start
        for entity, parts in matched.items():
            information = vocabulary.information(entity)
            if information <= 0 or (len(parts) == 1 and set(parts) <= vocabulary.kind_words.keys()):
                continue  # a kind word alone ("which *apis*...") is the kind, unless written as the whole name
            gained = vocabulary.matched_information(entity, {part: sure for part, (sure, _) in parts.items()})
            said = [word for _, word in parts.values()]
            start, end = min(w.start for w in said), max(w.end for w in said)
            heads = self._heads(sequence, start, end)
            strength = self._strength(entity, gained / information, heads)
            if strength < LINKED and self._identifies(entity, set(parts), heads, matched):
                strength = LINKED
            if strength >= MIN_REPORTED:
                links.append(Link(entity, round(strength, 4), start, end, BY_WORDS, normalised[start:end]))
                spans[entity] = frozenset(w.start for w in said)
        content = [w.start for w in sequence if not w.function]
        links = _longest_matches(links, spans, content)
        for entity, word in acronyms.items():
            links.append(Link(entity, ACRONYM_STRENGTH, word.start, word.end, BY_ACRONYM, word.text))
        return links

    def _heads(self, sequence: list[Word], start: int, end: int) -> set[str]:
        """The kind or type words right next to a mention: part of it ("the tracking *website*")."""
        return {w.stem for w in _next_to(sequence, start, end) if w.stem in self.vocabulary.kind_words}

    def _strength(self, entity: str, matched: float, heads: set[str]) -> float:
        """`matched`: the share of the entity's name information the words matched. A kind or type word
        next to them (`heads`, "the wayback-search *component*") counts for an entity it fits, and against
        one it does not."""
        vocabulary = self.vocabulary
        information = vocabulary.information(entity) or 1.0
        fitting = heads & vocabulary.entity_words.get(entity, set())
        fits = sum(vocabulary.kind_weight.get(word, 0.0) for word in fitting)
        unfit = sum(vocabulary.kind_weight.get(word, 0.0) for word in heads - fitting)
        return round(min(1.0, (matched * information + fits) / (information + fits + unfit)), 4)

    def _identifies(
        self,
        entity: str,
        parts: set[str],
        heads: set[str],
        matched: dict[str, dict[str, tuple[float, Word]]],
    ) -> bool:
        """Whether a name word and the kind word next to it fit this entity and no other: "the search
        service" is the one service with "search" in its name, whatever else its name says."""
        vocabulary = self.vocabulary
        if not heads <= vocabulary.entity_words.get(entity, set()) or not heads:
            return False
        rivals = [
            other
            for other, other_parts in matched.items()
            if other != entity and parts <= set(other_parts) and heads <= vocabulary.entity_words.get(other, set())
        ]
        return not rivals

    def _near_spellings(self, text: str) -> dict[str, float]:
        """Name words the question word may be a misspelling of, each with how sure (0-1): one wrong,
        missing, extra or swapped letter (optimal string alignment), or a close enough match of a longer
        word with more slips (rapidfuzz ratio)."""
        near: dict[str, float] = {}
        for spelled, score, _ in process.extract(
            text, self._spelled, scorer=fuzz.ratio, score_cutoff=FUZZY_CUTOFF, limit=3
        ):
            near[spelled] = score / 100
        for spelled, _, _ in process.extract(text, self._spelled, scorer=OSA.distance, score_cutoff=1, limit=3):
            sureness = 1 - 1 / max(len(text), len(spelled))
            near[spelled] = max(near.get(spelled, 0.0), sureness)
        return near

    def _candidate_parts(self, free: list[Word]) -> list[tuple[Word, str, float]]:
        """(question word, name part it matches, how sure): exact stems, two words written as one
        (`web ui` / `webui`, either way round), and near spellings of longer words."""
        vocabulary = self.vocabulary
        candidates = []
        for word in free:
            if word.stem in vocabulary.by_part:
                candidates.append((word, word.stem, 1.0))
            elif word.text in vocabulary.compounds:  # "keyvault" for `key-vault`
                candidates += [(word, part, 1.0) for part in sorted(vocabulary.compounds[word.text])]
            elif len(word.text) >= MIN_FUZZY_CHARS:
                for spelled, sureness in self._near_spellings(word.text).items():
                    candidates.append((word, vocabulary.spelled[spelled], sureness))
        for first, second in itertools.pairwise(free):
            joined = stem(first.text + second.text)
            if joined in vocabulary.by_part:
                candidates.append((Word(first.text + second.text, joined, first.start, second.end), joined, 1.0))
        return candidates


def _longest_matches(links: list[Link], spans: dict[str, frozenset[int]], content: list[int]) -> list[Link]:
    """A link whose question words another link's words include, and more, in one run of words, is
    weakened by the share of them it explains: in "zookeper ensamble", `zookeeper-ensemble` explains both
    words and `zookeeper-storage` one (the longest match, as with whole names). `content`: where the
    question's content words start."""

    def one_run(starts: frozenset[int]) -> bool:
        return all(start in starts for start in content if min(starts) <= start <= max(starts))

    # a common word links hundreds of entities in a large catalog, over a handful of distinct spans
    linked = {spans[link.entity] for link in links if link.strength >= LINKED and one_run(spans[link.entity])}
    share = {}
    for mine in set(spans.values()):
        wider = [len(theirs) for theirs in linked if mine < theirs]
        share[mine] = len(mine) / max(wider) if wider else 1.0
    return [
        replace(link, strength=round(link.strength * share[spans[link.entity]], 4))
        if share[spans[link.entity]] < 1
        else link
        for link in links
    ]


def _next_to(sequence: list[Word], start: int, end: int) -> list[Word]:
    """The words just before and just after a span."""
    before = [w for w in sequence if w.end < start][-1:]
    after = [w for w in sequence if w.start > end][:1]
    return before + after


def _inside(word: Word, spans: list[tuple[int, int]]) -> bool:
    return any(start <= word.start and word.end <= end for start, end in spans)
