"""A synthetic subject-verb agreement corpus, and two language models to test on it.

The chapter "Why recurrence" asks one question: can a language model choose the
number of a verb ("is" or "are") when the subject that decides it lies many words
back, behind nouns of the other number? This module holds everything that is too
long for a notebook cell:

* a seeded generator of sentences such as
  ``the keys next to the book on the old table are red``, which records where the
  subject and the verb are, how many words lie between them, and the number of
  the noun closest to the verb (the *attractor*);
* ``NGramLM``: a count-based n-gram language model with interpolated
  (Jelinek-Mercer) smoothing;
* ``WindowLM``: a feed-forward neural n-gram model (Bengio et al., 2003);
* ``encode``, ``sequence_data``, ``window_data``: word ids for the neural
  models; sentences of different lengths are padded with ``<pad>`` (id 0);
* ``verb_scores_ngram``, ``verb_scores_window``, ``verb_scores_rnn``: for each
  test sentence, how much more probable the model finds the right form of the
  verb than the wrong one, and ``accuracy_table`` to summarize them.

The RNN language model itself and the training loop are written in the
chapter, where the reader sees them. Sentences are lists of word strings that
begin with ``<s>`` and end with ``</s>``. Batches of word ids are batch-major,
shape ``(B, T)``; the RNN's hidden states have shape ``(B, T, H)``, as
everywhere in the book.
"""

import math
from collections import Counter, defaultdict

import numpy as np
import torch
from torch import nn

# ----------------------------------------------------------------------------
# The grammar
# ----------------------------------------------------------------------------

NOUNS = {"key": "keys", "book": "books", "cup": "cups", "box": "boxes",
         "lamp": "lamps", "table": "tables", "shelf": "shelves", "chair": "chairs"}
ADJECTIVES = ["old", "new", "red", "small"]
# Prepositions of one, two and three words: a prepositional phrase
# "<preposition> the (<adjective>) <noun>" is therefore 3 to 6 words long.
PREPOSITIONS = [("on",), ("near",), ("under",), ("behind",), ("next", "to"), ("on", "top", "of")]
# Noun-free material of one or two words that may follow the subject.
FILLERS = [("here",), ("there",), ("upstairs",), ("over", "there"), ("in", "here")]
VERBS = {"is": "are"}                  # singular -> plural
PREDICATES = ["old", "new", "red", "small", "broken", "missing", "clean"]

SINGULAR_VERBS = list(VERBS)
PLURAL_VERBS = list(VERBS.values())
OTHER_FORM = {**VERBS, **{p: s for s, p in VERBS.items()}}


def vocabulary():
    """All word types of the grammar, with ``<pad>`` at index 0. Returns a list of strings."""
    words = ["<pad>", "<s>", "</s>", "the"]
    words += [w for s, p in NOUNS.items() for w in (s, p)]
    words += [w for group in (PREPOSITIONS, FILLERS) for phrase in group for w in phrase]
    words += ADJECTIVES + PREDICATES + SINGULAR_VERBS + PLURAL_VERBS
    return list(dict.fromkeys(words))          # drop duplicates, keep the order


def _noun(lemma, plural):
    return NOUNS[lemma] if plural else lemma


def make_sentence(rng, n_phrases, filler, p_adjective=0.3):
    """One sentence with ``n_phrases`` prepositional phrases after the subject.

    Args:
        rng: a ``numpy.random.Generator``.
        n_phrases: number of prepositional phrases between subject and verb (0, 1, 2, ...).
        filler: a tuple of noun-free words placed after the phrases (may be empty).
        p_adjective: probability that a phrase's noun gets an adjective.

    Every noun's number is drawn independently, with probability 1/2: the
    attractors say nothing about the verb. Nouns inside the phrases are different
    words from the subject noun.

    Returns:
        dict with ``words`` (list of str, from ``<s>`` to ``</s>``), ``verb_pos``
        (index of the verb in ``words``), ``distance`` (number of words between
        subject and verb), ``plural`` (the subject's number), and ``attractor``
        (``None`` if there is no phrase, else the number of the noun closest to
        the verb).
    """
    lemmas = list(NOUNS)
    subject = lemmas[rng.integers(len(lemmas))]
    plural = bool(rng.integers(2))
    words = ["<s>", "the", _noun(subject, plural)]
    attractor = None
    for _ in range(n_phrases):
        others = [n for n in lemmas if n != subject]
        noun = others[rng.integers(len(others))]
        attractor = bool(rng.integers(2))
        words += list(PREPOSITIONS[rng.integers(len(PREPOSITIONS))]) + ["the"]
        if rng.random() < p_adjective:
            words.append(ADJECTIVES[rng.integers(len(ADJECTIVES))])
        words.append(_noun(noun, attractor))
    words += list(filler)
    singular_verb = SINGULAR_VERBS[rng.integers(len(SINGULAR_VERBS))]
    verb_pos = len(words)
    words.append(VERBS[singular_verb] if plural else singular_verb)
    words += [PREDICATES[rng.integers(len(PREDICATES))], "</s>"]
    return dict(words=words, verb_pos=verb_pos, distance=verb_pos - 3,
                plural=plural, attractor=attractor)


def _random_structure(rng, max_phrases):
    """Number of phrases (uniform on 0..max_phrases) and a filler.

    A filler is used only in sentences without phrases, half of the time: it then
    follows the subject directly ("the keys over there are ..."), so the words
    just before the verb still show which noun is the subject.
    """
    n_phrases = int(rng.integers(max_phrases + 1))
    use_filler = n_phrases == 0 and rng.random() < 0.5
    return n_phrases, FILLERS[rng.integers(len(FILLERS))] if use_filler else ()


def training_corpus(rng, n_sentences, max_phrases=3):
    """``n_sentences`` sentences with 0..``max_phrases`` phrases each. Returns a list of dicts."""
    return [make_sentence(rng, *_random_structure(rng, max_phrases)) for _ in range(n_sentences)]


def test_corpus(rng, distances, per_cell, max_phrases=3, max_draws=10**6):
    """A test set stratified by distance and by whether the closest attractor agrees.

    For every distance ``d`` in ``distances``, ``per_cell`` sentences whose closest
    attractor has the subject's number ("agree") and ``per_cell`` whose closest
    attractor has the other number ("disagree"); distances without any attractor
    (no phrase, only a filler: ``d`` of 0, 1 or 2) get ``2 * per_cell`` sentences of
    condition "none". Sentences are drawn from the training distribution and kept
    if they fill a cell that is not yet full (rejection sampling), so within a
    cell they are distributed as in training. Short sentences are few (there are
    only 2 * 8 * 7 = 112 different sentences without any words between subject
    and verb), so a test set drawn this way shares its short sentences with any
    training set of a few thousand; the long ones are almost all new.

    Returns a list of dicts as ``make_sentence``, each with an added ``condition``.
    """
    need = {}
    for d in distances:
        if d <= max(len(f) for f in FILLERS):
            need[(d, "none")] = 2 * per_cell
        if d >= 3:
            need[(d, "agree")] = need[(d, "disagree")] = per_cell
    items = []
    for _ in range(max_draws):
        if not any(need.values()):
            return items
        s = make_sentence(rng, *_random_structure(rng, max_phrases))
        if s["attractor"] is None:
            condition = "none"
        else:
            condition = "agree" if s["attractor"] == s["plural"] else "disagree"
        key = (s["distance"], condition)
        if need.get(key, 0) > 0:
            need[key] -= 1
            items.append({**s, "condition": condition})
    raise RuntimeError(f"{max_draws} draws did not fill the cells {[k for k, v in need.items() if v]}")


# ----------------------------------------------------------------------------
# A count-based n-gram language model
# ----------------------------------------------------------------------------

class NGramLM:
    """An n-gram language model with interpolated (Jelinek-Mercer) smoothing.

    The estimate of order m is the relative frequency, interpolated with the
    estimate of order m - 1:

        P_m(w | c) = lam * count(c, w) / count(c) + (1 - lam) * P_{m-1}(w | c')

    where c is the context of the last m - 1 words and c' drops its first word.
    If the context c was never seen, P_m = P_{m-1}. Order 1 is the add-one
    unigram estimate, so no word ever has probability zero. Sentences are padded
    on the left with n - 2 extra ``<s>`` so that every position has a full context.
    """

    def __init__(self, n=4, lam=0.7):
        self.n, self.lam = n, lam
        self.counts = defaultdict(Counter)  # context tuple (length 0..n-1) -> Counter of next words
        self.vocab = set()

    def fit(self, sentences):
        """Count every m-gram (m = 1..n) in ``sentences`` (lists of words). Returns self."""
        for words in sentences:
            padded = ["<s>"] * (self.n - 2) + list(words)
            self.vocab.update(padded)
            for i in range(self.n - 1, len(padded)):
                for m in range(self.n):               # context lengths 0 .. n-1
                    self.counts[tuple(padded[i - m:i])][padded[i]] += 1
        return self

    def prob(self, context, word):
        """P(word | the last n - 1 words of ``context``), a float in (0, 1)."""
        context = (["<s>"] * (self.n - 2) + list(context))[-(self.n - 1):]
        unigram = self.counts[()]
        p = (unigram[word] + 1) / (sum(unigram.values()) + len(self.vocab))
        for m in range(1, self.n):
            c = self.counts.get(tuple(context[len(context) - m:]))
            if c:
                p = self.lam * c[word] / sum(c.values()) + (1 - self.lam) * p
        return p


# ----------------------------------------------------------------------------
# A feed-forward window model, and the data for the neural models
# ----------------------------------------------------------------------------

class WindowLM(nn.Module):
    """A feed-forward n-gram model (Bengio et al., 2003): it sees the last n - 1 words only.

    The embeddings of the n - 1 context words are concatenated, passed through
    one tanh layer, and mapped to next-word scores.

    Args:
        vocab_size: V; n: the model is an n-gram model; embed_dim: D; hidden_dim: H.
    Forward:
        ids (B, n - 1) integer word ids -> logits (B, V) for the next word.
    """

    def __init__(self, vocab_size, n=4, embed_dim=32, hidden_dim=64):
        super().__init__()
        self.embed = nn.Embedding(vocab_size, embed_dim)
        self.hidden = nn.Linear((n - 1) * embed_dim, hidden_dim)
        self.out = nn.Linear(hidden_dim, vocab_size)

    def forward(self, ids):
        x = self.embed(ids).flatten(1)                 # (B, (n - 1) * D)
        return self.out(torch.tanh(self.hidden(x)))    # (B, V)


def encode(sentences, index):
    """Pad a list of word lists into one tensor of ids, shape (B, T_max), ``<pad>`` = 0.

    Padding goes after the end of each sentence, so a left-to-right RNN's states at
    the real words do not depend on it; a loss or a read-out must skip the padded
    positions (see the chapter "Batching, padding and masking").
    """
    T = max(len(w) for w in sentences)
    ids = torch.zeros(len(sentences), T, dtype=torch.long)
    for b, words in enumerate(sentences):
        ids[b, :len(words)] = torch.tensor([index[w] for w in words])
    return ids


def sequence_data(sentences, index):
    """Training pairs for an RNN: inputs (N, T - 1) and targets (N, T - 1), the inputs shifted by one.

    T is the length of the longest sentence; shorter ones are padded (``encode``), so
    their targets end in ``<pad>`` (id 0), which the loss must ignore.
    """
    ids = encode(sentences, index)
    return ids[:, :-1], ids[:, 1:]


def _window(words, n):
    """The last n - 1 words of ``words``, padded on the left with ``<s>``."""
    return (["<s>"] * (n - 1) + list(words))[-(n - 1):]


def window_data(sentences, index, n=4):
    """Training pairs for a window model: inputs (M, n - 1), targets (M,), one per predicted word."""
    contexts, targets = [], []
    for words in sentences:
        for i in range(1, len(words)):
            contexts.append([index[w] for w in _window(words[:i], n)])
            targets.append(index[words[i]])
    return torch.tensor(contexts), torch.tensor(targets)


# ----------------------------------------------------------------------------
# The agreement test
# ----------------------------------------------------------------------------

def verb_scores_ngram(lm, items):
    """log P(right verb) - log P(wrong verb) at the verb position, for each test item.

    Returns a float array of shape (N,); a positive entry means the model prefers
    the right form.
    """
    out = []
    for s in items:
        context, right = s["words"][:s["verb_pos"]], s["words"][s["verb_pos"]]
        out.append(math.log(lm.prob(context, right)) - math.log(lm.prob(context, OTHER_FORM[right])))
    return np.array(out)


def _right_wrong(items, index):
    """Ids of the right and the wrong verb form of each item: two long tensors of shape (N,)."""
    right = [s["words"][s["verb_pos"]] for s in items]
    return (torch.tensor([index[w] for w in right]),
            torch.tensor([index[OTHER_FORM[w]] for w in right]))


@torch.no_grad()
def verb_scores_window(model, items, index, n=4):
    """As ``verb_scores_ngram``, for a ``WindowLM`` that sees the n - 1 words before the verb. (N,)"""
    model.eval()
    ids = torch.tensor([[index[w] for w in _window(s["words"][:s["verb_pos"]], n)] for s in items])
    logp = torch.log_softmax(model(ids), dim=-1)                  # (N, V)
    right, wrong = _right_wrong(items, index)
    rows = torch.arange(len(items))
    return (logp[rows, right] - logp[rows, wrong]).numpy().astype(float)


@torch.no_grad()
def verb_scores_rnn(model, items, index):
    """As ``verb_scores_ngram``, for an RNN language model that has read every word before the verb. (N,)

    ``model`` maps ids (B, T) to next-word logits (B, T, V). The items are padded into
    one batch; the scores are read at the position before each verb, a real word.
    """
    model.eval()
    logp = torch.log_softmax(model(encode([s["words"] for s in items], index)), dim=-1)  # (N, T, V)
    rows = torch.arange(len(items))
    at_verb = logp[rows, torch.tensor([s["verb_pos"] - 1 for s in items])]          # (N, V)
    right, wrong = _right_wrong(items, index)
    return (at_verb[rows, right] - at_verb[rows, wrong]).numpy().astype(float)


def accuracy_table(items, correct, distances):
    """Accuracy by distance and condition.

    Args:
        items: test items (dicts with ``distance`` and ``condition``), length N.
        correct: boolean array (N,), whether the model chose the right verb form.
        distances: the distances to report, in order.
    Returns:
        dict mapping condition ("all", "none", "agree", "disagree") to a float
        array of accuracies aligned with ``distances`` (NaN where there are no items).
    """
    dist = np.array([s["distance"] for s in items])
    cond = np.array([s["condition"] for s in items])
    table = {}
    for c in ("all", "none", "agree", "disagree"):
        keep = np.ones(len(items), bool) if c == "all" else cond == c
        table[c] = np.array([correct[keep & (dist == d)].mean() if (keep & (dist == d)).any()
                             else np.nan for d in distances])
    return table
