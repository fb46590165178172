"""Clauses of a parsed sentence: which tokens belong to a trigger's clause, its subject, and
who only sent someone (spaCy dependency trees)."""

from __future__ import annotations

from spacy.tokens import Doc, Token

# Clause links that start a separate statement: what is said in a quote is not the meeting.
_SEPARATE_CLAUSES = ("ccomp", "parataxis", "relcl", "advcl", "acl", "conj")


def lemma_of(token: Token) -> str:
    """Return the token's lower-case lemma (its lower-case text when no lemma is set)."""
    return (token.lemma_ or token.lower_).lower()


def clause_root(token: Token) -> Token:
    """Return the nearest verb at or above the token (the clause the trigger belongs to).

    Tokens are compared by index: spaCy makes a new Token object on every access.
    """
    current = token
    while current.pos_ not in ("VERB", "AUX") and current.head.i != current.i:
        current = current.head
    return current


def starts_clause(token: Token) -> bool:
    """Return True when the token heads an embedded clause ("conj" only between verbs)."""
    if token.dep_ == "conj":
        return token.pos_ in ("VERB", "AUX")
    return token.dep_ in _SEPARATE_CLAUSES


def is_flat(doc: Doc) -> bool:
    """Return True for text without capitals (social posts), where parses are unreliable."""
    letters = [c for c in doc.text[:2000] if c.isalpha()]
    return bool(letters) and sum(c.isupper() for c in letters) < 0.01 * len(letters)


def trigger_region(trigger: Token) -> set[int]:
    """Return token indices that can be participants of the trigger's event.

    The trigger's clause, minus every embedded clause that does not contain the trigger: in
    "X, who met Y last year, said Z" the meeting is X-Y, and Z is only said. A relative clause
    also reaches the noun it describes ("Assad, who met Putin ...").
    """
    root = clause_root(trigger)
    excluded: set[int] = set()
    for token in root.subtree:
        if token.i == root.i or not starts_clause(token):
            continue
        if trigger not in token.subtree:
            excluded.update(t.i for t in token.subtree)
    region = {t.i for t in root.subtree} - excluded
    if root.dep_ == "xcomp":
        # "X asked Russia to stand by Syria during talks with Y": an infinitive clause shares
        # the subject of the verb that governs it.
        region.update(
            t.i for c in root.head.children if c.dep_ in ("nsubj", "nsubjpass") for t in c.subtree
        )
    if root.dep_ in ("relcl", "acl") and root.head.i != root.i:
        head = root.head
        region.update(t.i for t in head.lefts if t.dep_ in ("compound", "amod"))
        region.add(head.i)
        # "Shoigu and Assad, who last met in June 2016": the clause describes every conjunct.
        for noun in conjuncts(head):
            region.update(t.i for t in noun.subtree if not starts_clause(t) or t.i == noun.i)
    region.update(borrowed_subject(root))
    return region - principal_tokens(root)


# Nouns whose "of X" / "X's" names who sent someone, not who met: "on the orders of Putin",
# "at the invitation of", "on behalf of", "delivered Putin's message", "Putin's envoy".
PRINCIPAL_NOUNS = frozenset(["instruction", "instructions", "order", "orders", "behalf",
                             "request", "invitation", "initiative", "message", "letter",
                             "direction", "directive", "mandate", "envoy", "representative",
                             "greetings", "congratulations"])


def principal_tokens(root: Token) -> set[int]:
    """Return the tokens of the senders in a clause: the "of X" or "X's" of PRINCIPAL_NOUNS."""
    found: set[int] = set()
    for noun in root.subtree:
        if noun.lower_ not in PRINCIPAL_NOUNS:
            continue
        if noun.dep_ == "dobj":
            # "handed a message from Putin to Assad": the sender hangs on the verb.
            found.update(t.i for c in noun.head.children
                         if c.dep_ == "prep" and c.lower_ == "from" for t in c.subtree)
        for child in noun.children:
            # "a message from President Putin" names its sender as "of" does.
            if child.dep_ == "poss" or child.dep_ == "prep" and child.lower_ in ("of", "from"):
                found.update(t.i for t in child.subtree)
    return found


def conjuncts(noun: Token) -> list[Token]:
    """Return the nouns coordinated with this one ("Shoigu and Assad"), the noun included."""
    first = noun
    while first.dep_ == "conj" and first.head.i != first.i:
        first = first.head
    return [first, *first.conjuncts]


SUBJECTS = ("nsubj", "nsubjpass")
# Clauses that take their subject from the clause they hang on: participles and gerunds
# ("holding talks with ...", "Receiving the Syrian president, Putin said", "after meeting
# Assad"), a second verb of one subject ("arrived in Damascus and met Assad").
_SUBJECTLESS_LINKS = ("advcl", "pcomp", "acl", "conj", "xcomp", "pobj")


def borrowed_subject(root: Token) -> set[int]:
    """Return the token indices of the subject a subjectless clause shares with its governor."""
    current = root
    for _ in range(4):  # a few links up at most: "after meeting" hangs on a prep of "said"
        if any(c.dep_ in SUBJECTS for c in current.children):
            return set() if current.i == root.i else subject_tokens(current)
        if current.dep_ not in (*_SUBJECTLESS_LINKS, "prep") or current.head.i == current.i:
            return set()
        current = current.head
    return set()


def subject_tokens(verb: Token) -> set[int]:
    """Return the tokens of a verb's subject phrase, without its embedded clauses."""
    found: set[int] = set()
    for subject in (c for c in verb.children if c.dep_ in SUBJECTS):
        skipped = {t.i for c in subject.subtree if starts_clause(c) and c.i != subject.i
                   for t in c.subtree}
        found.update(t.i for t in subject.subtree if t.i not in skipped)
    return found
