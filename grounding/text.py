"""Reading answers and passages: citations, numbers, names, key terms, a passage's units.
Plain string work, the same for any subject."""

from __future__ import annotations

import re
from collections.abc import Sequence

import Stemmer

from retrieval.chunking import LEAD_JOINER
from retrieval.structure import LABEL, value_at

_STEMMER = Stemmer.Stemmer("english")
CITATION = re.compile(r"\[\d+(?:\s*,\s*\d+)*\]")
NUMBER = re.compile(r"(?<![\w.])\d+(?:,\d{3})*(?:\.\d+)?(?![\w])")
YEAR = re.compile(r"(?<![\w.])(?:1[0-9]|20)\d\d(?!\w|\.\d)")
# Capitalised words inside a sentence ("H.C. Oersted", "de Elhuyer" after a capital).
NAME = re.compile(
    r"(?<=[a-z,;:]\s)((?:[A-Z][a-z]*\.\s*)*[A-Z][a-z]+"
    r"(?:\s+(?:(?:de|da|di|du|del|van|von|der|le|la)\s+)*(?:[A-Z]\.\s*)*[A-Z][a-z]+)*)"
)
WORD = re.compile(r"[a-z][a-z-]+")
SENTENCE_END = re.compile(r"(?<=[.!?;])(?<!\b[A-Z]\.)\s+(?=[A-Z(\[])")
STOPWORDS = frozenset(
    WORD.findall(
        "about above after again also among answer because been before being below between both "
        "called cannot could does doing down during each either every from further have having "
        "here into itself just known mean means more most much must only other over same should "
        "since some such than that their them then there these they this those through under "
        "until used uses using very what when where which while whom whose will with within "
        "without would your source sources passage student tutor question tell give name "
        "stand stands another"
    )
)


def uncited(text: str) -> str:
    return CITATION.sub(" ", text)


def numbers_in(text: str) -> list[str]:
    return [m.group(0).replace(",", "") for m in NUMBER.finditer(text)]


def same_number(claim: str, held: str) -> bool:
    """Equal at the claim's precision: 39.1 and 39 both match 39.0983; 3 does not match 19."""
    decimals = len(claim.split(".")[1]) if "." in claim else 0
    try:
        return round(float(held), decimals) == float(claim) or claim == held
    except ValueError:
        return False


def holds_number(text: str, value: str) -> bool:
    return any(same_number(n, value) for n in numbers_in(uncited(text)))


def key_terms(text: str) -> set[str]:
    return set(ordered_terms(text))


def ordered_terms(text: str) -> list[str]:
    """Content words, stemmed (Snowball, as the keyword index does), in order, once each."""
    words = [w for w in WORD.findall(text.lower()) if len(w) > 3 and w not in STOPWORDS]
    return list(dict.fromkeys(_STEMMER.stemWords(words)))


def holds_half(text: str, terms: Sequence[str]) -> bool:
    return holds_share(text, terms, 0.5)


def holds_share(text: str, terms: Sequence[str], share: float) -> bool:
    found = key_terms(text)
    return sum(term in found for term in terms) >= share * len(terms)


def defining_terms(definition: str, title: str) -> list[str]:
    """What a definition is judged by: its key terms, at most six, the defined words left out."""
    own = key_terms(title)
    return [term for term in ordered_terms(definition) if term not in own][:6]


def mentions(text: str, phrase: str) -> bool:
    """`phrase` as whole words in `text`: case-blind, except a code of one or two letters
    ("F", "Fe"), which must be written as it is."""
    phrase = phrase.strip()
    if not phrase:
        return False
    flags = 0 if len(phrase) <= 2 else re.IGNORECASE
    return re.search(rf"(?<![\w-]){re.escape(phrase)}(?![\w-])", text, flags) is not None


def plain(text: str) -> str:
    """An entry as a student reads it: without markup tags (<tag>), bracketed notes
    ([...]) and slashed pronunciations, and without a lower-case run of other names before
    the first capital ("deadly embrace A situation where ..." starts at "A")."""
    text = " ".join(re.sub(r"<[^>]+>|\[[^\]]*\]|/[^/\s]+/", " ", text).split())
    text = re.sub(r"^(?:n|v|adj|adv)\s+(?:1:\s*)?", "", text)
    other_names = re.match(r"[a-z0-9][a-z0-9 ,'-]{0,80}?\s(?=[A-Z])", text)
    return text[other_names.end() :] if other_names else text


def passage_units(text: str) -> list[str]:
    """A passage's sentences, with each "Label: value" field at the head a unit of its own."""
    units: list[str] = []
    for part in plain(text).split(LEAD_JOINER.strip()):
        for sentence in SENTENCE_END.split(part.strip()):
            starts = [m.start(1) for m in LABEL.finditer(sentence)]
            bounds = [0, *[s for s in starts if s > 0], len(sentence)]
            for a, b in zip(bounds, bounds[1:], strict=False):
                units.extend(split_field(sentence[a:b].strip()))
    return [u for u in units if u]


def split_field(unit: str) -> list[str]:
    """ "Atomic weight: (227) Silvery metal" is a field and a sentence: two units."""
    label = LABEL.match(unit)
    if label is None:
        return [unit]
    value = value_at(unit, label.end(), len(unit))
    at = unit.find(value, label.end())
    if not value or at < 0 or "," in value:
        return [unit]
    end = at + len(value)
    end += 1 if unit[end : end + 1] == ")" else 0
    return [unit[:end].strip(), unit[end:].strip()]


def is_field_unit(unit: str) -> bool:
    return LABEL.match(unit) is not None


def defining_unit(text: str) -> str:
    """An entry's defining sentence: its first unit past its fields, without parenthetical
    asides (other names, abbreviations) and of three words at least ("1." is a sense number,
    not a definition)."""
    for unit in passage_units(text):
        if is_field_unit(unit):
            continue
        unit = " ".join(re.sub(r"\([^)]*\)", " ", unit).split())
        unit = plain(unit) if unit[:1].islower() else unit
        if len(unit.split()) >= 3:
            return unit
    return ""
