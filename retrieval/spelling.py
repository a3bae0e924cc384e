"""Spelling tolerance for keyword search, where it is cheap.

A query word that is not a word ("functoin") is replaced by the most common word the shard has
within a typo or two of it ("function"), before BM25 stems it. A word is a word if the shard
has it (or its stem), or if it is in symspellpy's English frequency dictionary: a small shard
lacks most of English, and "painter" must not become "printer" in the computing shard because
no computing entry mentions painters. Known words cost a set lookup; an unknown one a scan of
the shard's words (rapidfuzz, ~5 ms over the english shard's 100K words). Corrections are of
whole words, not of BM25's stems: "oxidaton" is four edits from the stem "oxid" but one from
"oxidation".

Why not SymSpell itself for the lookup: its precomputed deletes of a 150K-word shard at two
edits would hold hundreds of MB in every replica, for a path only typos take.
"""

from __future__ import annotations

import functools
import re
from collections import Counter
from collections.abc import Callable, Iterable
from importlib import resources

from bm25s.stopwords import STOPWORDS_EN
from rapidfuzz import process
from rapidfuzz.distance import OSA

_WORD = re.compile(r"[a-z]+")
_STOPWORDS = frozenset(STOPWORDS_EN)


@functools.cache
def english_words() -> frozenset[str]:
    """The 82,765 words of symspellpy's English frequency dictionary."""
    path = resources.files("symspellpy") / "frequency_dictionary_en_82_765.txt"
    return frozenset(line.split(" ", 1)[0] for line in path.read_text().splitlines() if line)


def typos_tolerated(word: str) -> int:
    """Edits (a transposition counts as one) a word may be from the word it stands for: none
    in short words, where too many real words are one edit apart."""
    if len(word) < 5:
        return 0
    return 1 if len(word) < 9 else 2


class Speller:
    """The words of one shard's passages with their counts; `also_known` accepts other words
    (the shard's BM25 index knowing the word's stem)."""

    def __init__(
        self, counts: Counter[str], also_known: Callable[[str], bool] = lambda _: False
    ) -> None:
        self._counts = counts
        self._words = list(counts)
        self._also_known = also_known

    @classmethod
    def from_texts(
        cls, texts: Iterable[str], also_known: Callable[[str], bool] = lambda _: False
    ) -> Speller:
        counts = Counter(w for text in texts for w in _WORD.findall(text.lower()))
        english_words()  # read once per process, here rather than by the first typo
        return cls(counts, also_known)

    def knows(self, word: str) -> bool:
        return (
            word in self._counts
            or word in _STOPWORDS
            or word in english_words()
            or self._also_known(word)
        )

    def __len__(self) -> int:
        return len(self._words)

    def correct(self, text: str) -> str:
        """`text` lower-cased, each unknown word replaced by its correction if it has one."""
        return _WORD.sub(lambda match: self.word(match.group()), text.lower())

    def word(self, word: str) -> str:
        edits = typos_tolerated(word)
        if not edits or self.knows(word):
            return word
        near = process.extract(
            word, self._words, scorer=OSA.distance, score_cutoff=edits, limit=None
        )
        if not near:
            return word
        # Nearest first; between equally near words the more common, as spell checkers do.
        best: str = min(near, key=lambda m: (m[1], -self._counts[m[0]]))[0]
        return best
