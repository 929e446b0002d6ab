"""Words as the catalog and questions share them: split names, stems, and the English function words.

Names are split on `-`, `_`, `.` and CamelCase (`acme-datastore-storagemanager-api`, `StorageManager`) and
compared by their Snowball stem, so "payments gateway" meets `payment-gateway`. Function words come from
NLTK's English list as bm25s ships it (and scikit-learn's for grammar), not from a list grown here.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from functools import cache
from typing import Any

from bm25s.stopwords import STOPWORDS_EN_PLUS

from assistant.citations import CITATION


def _scikit_learn_stop_words() -> frozenset[str]:
    """scikit-learn's English list, read from its data module alone: importing the `sklearn` package pulls
    in scipy and pandas (about 2 s), which every `assistant` process would pay at start for one word list."""
    import importlib.util
    from pathlib import Path

    package = importlib.util.find_spec("sklearn")
    for folder in (package.submodule_search_locations or []) if package else []:
        spec = importlib.util.spec_from_file_location(
            "_sklearn_stop_words", Path(folder) / "feature_extraction" / "_stop_words.py"
        )
        if spec is not None and spec.loader is not None and Path(str(spec.origin)).is_file():
            module = importlib.util.module_from_spec(spec)
            spec.loader.exec_module(module)
            return frozenset(module.ENGLISH_STOP_WORDS)
    from sklearn.feature_extraction.text import ENGLISH_STOP_WORDS  # laid out otherwise: the public way

    return frozenset(ENGLISH_STOP_WORDS)


ENGLISH_STOP_WORDS = _scikit_learn_stop_words()
FUNCTION_WORDS = frozenset(STOPWORDS_EN_PLUS)
# For reading a question's grammar ("what *else* does X own?"), scikit-learn's longer list as well; its
# content-like entries ("system", "part") are kind words or relation phrases, which are read first.
FILLER_WORDS = FUNCTION_WORDS | ENGLISH_STOP_WORDS
# "The frontend *one*", "the mongo *ones*": a noun's stand-in (English's pro-form), not a word of a name
PRO_FORMS = frozenset({"one", "ones"})
_CAMEL = re.compile(r"(?<=[a-z0-9])(?=[A-Z])|(?<=[A-Z])(?=[A-Z][a-z])")
_WORD = re.compile(r"[a-z0-9]+")
# English's prepositions of exclusion: "the object store *besides* minio" asks for one that is not minio
_EXCLUDING = re.compile(
    r"(?<![a-z0-9])(?:besides|except(?: for)?|apart from|aside from|other than|excluding|not counting|instead of)"
    r" (?:the )?$"
)


@cache
def only_adverb(word: str) -> bool:
    """Whether English uses the word only as an adverb ("actually", "currently"; lemminflect's lexicon): it
    says how, not what, so between "who" and "owns" it stands as a function word does."""
    from lemminflect import getAllLemmas

    return set(getAllLemmas(word)) == {"ADV"}


def excluded_at(normalised: str, start: int) -> bool:
    """Whether the name that starts at `start` of a normalised question is named as an exception."""
    return bool(_EXCLUDING.search(normalised[:start]))


@cache
def _stemmer() -> Any:
    import Stemmer

    return Stemmer.Stemmer("english")


def stem(word: str) -> str:
    return str(_stemmer().stemWord(word))


def split_camel(text: str) -> str:
    """`StorageManager API` -> `Storage Manager API`."""
    return _CAMEL.sub(" ", text)


def fold(text: str) -> str:
    """Letters without their accents: "Frédérique" is typed "Frederique" as often as not."""
    decomposed = unicodedata.normalize("NFKD", text)
    return "".join(char for char in decomposed if not unicodedata.combining(char))


def normalise(text: str) -> str:
    """Lower-case words separated by single spaces: how labels and questions are compared. Citation marks
    ("[1]") are not words."""
    return " ".join(_WORD.findall(CITATION.sub(" ", fold(text).lower())))  # a history's answers cite [1]


def label_forms(label: str) -> list[str]:
    """A name or title as a question may write it: `OpenAI API` as "openai api" or "open ai api"."""
    return list(dict.fromkeys([normalise(label), normalise(split_camel(label))]))


@dataclass(frozen=True)
class Word:
    """One word of a normalised question, where it stands in it."""

    text: str
    stem: str
    start: int
    end: int

    @property
    def function(self) -> bool:
        return self.text in FUNCTION_WORDS


def words(normalised: str) -> list[Word]:
    return [Word(m.group(), stem(m.group()), m.start(), m.end()) for m in _WORD.finditer(normalised)]


def _pieces(labels: tuple[str, ...]) -> list[tuple[str, list[str]]]:
    """Each word of the labels as written (lower-cased) with its CamelCase pieces: `ZooKeeper` ->
    ("zookeeper", ["zoo", "keeper"]), `web` -> ("web", ["web"])."""
    return [
        (piece.lower(), normalise(split_camel(piece)).split())
        for label in labels
        for piece in re.split(r"[^A-Za-z0-9]+", fold(label))
        if piece
    ]


def camel_splits(*labels: str) -> dict[str, list[str]]:
    """`ZooKeeper` -> {"zookeeper": ["zoo", "keeper"]}: the words a CamelCase word is written as one of."""
    return {word: split for word, split in _pieces(labels) if len(split) > 1}


def name_parts(*labels: str) -> list[str]:
    """The distinct words of names and titles, CamelCase split and joined forms both kept."""
    parts: list[str] = []
    for word, split in _pieces(labels):
        parts += split if len(split) == 1 else [*split, word]
    return list(dict.fromkeys(parts))
