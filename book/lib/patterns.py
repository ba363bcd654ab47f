"""Diagrams of the five input/output patterns, and three synthetic corpora to train them on.

The chapter "Using RNNs" draws how a recurrent network can be wired between
inputs and outputs (one to one, one to many, many to one, many to many aligned
and unaligned), then trains three small models. Everything too long for a
notebook cell lives here:

* ``draw_patterns``: the five patterns side by side, boxes and arrows;
* ``Vocab`` and ``length_batches``: word ids, and batches in which every
  sequence has the same length (the chapter "Batching, padding and masking"
  batches sequences of different lengths instead);
* ``review_corpus``: movie-review sentences whose sentiment is flipped by a
  ``not`` before the adjective but not by a ``not`` after it (many to one);
* ``tagged_corpus``: part-of-speech tagged sentences with ambiguous words
  such as *can*, *fish*, *saw* (many to many, aligned);
* ``Grammar``: a probabilistic finite-state grammar with subject-verb
  agreement; it samples sentences and computes the exact probability of any
  word string (language modelling, many to many, aligned);
* ``UnigramLM``, ``BigramLM``: add-k smoothed count models, baselines for the last task.

Word ids are batch-major: a batch is a ``torch.long`` tensor of shape ``(B, T)``.
"""

import math
from collections import Counter, defaultdict

import numpy as np
import torch

from lib.unrolled import BOX_H, BOX_W, _arrow, _box

# ----------------------------------------------------------------------------
# Diagrams
# ----------------------------------------------------------------------------

STEP = 1.5                  # horizontal distance between time steps
Y_IN, Y_H, Y_OUT = 0.0, 1.5, 3.0
INK = "#1f4e79"
FEEDBACK = "#b5651d"        # dashed arrows: a generated output fed back in
# Boxes and arrows are drawn by the primitives of ``unrolled`` (box size, line
# widths and font as in the unrolled-network figures); this module passes only colours.
FACE = {"in": "#ffffff", "h": "#eaf1f8", "mlp": "#f4f4f4", "out": "#fdf2e9"}


def _word(ax, x, y, text):
    """An example token (grey italics) next to a box."""
    ax.text(x, y, text, ha="center", va="center", fontsize=10, color="#555555", style="italic")


# Each pattern: which steps have an input, which have an output, example tokens,
# and a title. Steps are numbered 0..T-1 from left to right.
PATTERNS = {
    "one_to_one": dict(T=1, inputs=[0], outputs=[0], recurrent=False,
                       words_in=["image"], words_out=["cat"],
                       title="one to one\n(no recurrence: an MLP)"),
    "one_to_many": dict(T=3, inputs=[0], outputs=[0, 1, 2], feedback=True,
                        words_in=["image"], words_out=["a", "dog", "runs"],
                        title="one to many\n(image captioning)"),
    "many_to_one": dict(T=3, inputs=[0, 1, 2], outputs=[2],
                        words_in=["not", "very", "good"], words_out=["negative"],
                        title="many to one\n(text classification)"),
    "many_to_many_aligned": dict(T=3, inputs=[0, 1, 2], outputs=[0, 1, 2],
                                 words_in=["they", "can", "fish"],
                                 words_out=["PRON", "AUX", "VERB"],
                                 title="many to many, aligned\n(tagging, language modelling)"),
    "many_to_many_unaligned": dict(T=5, inputs=[0, 1, 2], outputs=[3, 4], feedback=True,
                                   words_in=["the", "dog", "runs"],
                                   words_out=["der Hund", "läuft"],
                                   title="many to many, unaligned\n(sequence to sequence)"),
}


def draw_pattern(ax, name):
    """Draw one pattern of ``PATTERNS`` on the matplotlib Axes ``ax``.

    Inputs are white boxes at the bottom, states (RNN cells) blue boxes in the
    middle, outputs orange boxes at the top. Horizontal arrows carry the state
    from one step to the next; dashed arrows feed an output back in as the next
    step's input (generation).
    """
    p = PATTERNS[name]
    recurrent = p.get("recurrent", True)
    for t in range(p["T"]):
        x = t * STEP
        _box(ax, x, Y_H, rf"$h_{{{t + 1}}}$" if recurrent else r"$h$",
             face=FACE["h" if recurrent else "mlp"])
        if t > 0:
            _arrow(ax, (x - STEP + BOX_W / 2, Y_H), (x - BOX_W / 2, Y_H), INK)
    for i, t in enumerate(p["inputs"]):
        x = t * STEP
        _box(ax, x, Y_IN, rf"$x_{{{i + 1}}}$" if len(p["inputs"]) > 1 else r"$x$", face=FACE["in"])
        _arrow(ax, (x, Y_IN + BOX_H / 2), (x, Y_H - BOX_H / 2), INK)
        _word(ax, x, Y_IN - 0.55, p["words_in"][i])
    for i, t in enumerate(p["outputs"]):
        x = t * STEP
        _box(ax, x, Y_OUT, rf"$y_{{{i + 1}}}$" if len(p["outputs"]) > 1 else r"$y$", face=FACE["out"])
        _arrow(ax, (x, Y_H + BOX_H / 2), (x, Y_OUT - BOX_H / 2), INK)
        _word(ax, x, Y_OUT + 0.55, p["words_out"][i])
        if p.get("feedback") and t + 1 < p["T"]:
            # The output of step t becomes the input of step t + 1.
            _arrow(ax, (x + BOX_W / 2, Y_OUT - 0.1), (x + STEP - 0.15, Y_H + BOX_H / 2),
                   FEEDBACK, linestyle="--", rad=-0.25)
    if name == "many_to_many_unaligned":
        ax.text(1 * STEP, Y_OUT, "encoder:\nreads", ha="center", va="center", fontsize=10, color=INK)
        ax.text(3.5 * STEP, Y_IN, "decoder:\nwrites", ha="center", va="center", fontsize=10, color=INK)
    ax.set_title(p["title"], fontsize=11)
    ax.set_xlim(-1.1, (p["T"] - 1) * STEP + 1.1)
    ax.set_ylim(Y_IN - 0.9, Y_OUT + 0.9)
    ax.set_aspect("equal")
    ax.axis("off")


def draw_patterns(fig):
    """The five patterns on one figure: three panels on the top row, two below.

    Panel widths are proportional to the number of steps drawn, so that boxes
    have the same size in every panel.
    """
    rows = [["one_to_one", "one_to_many", "many_to_one"],
            ["many_to_many_aligned", "many_to_many_unaligned"]]
    for subfig, names in zip(fig.subfigures(2, 1), rows):
        widths = [(PATTERNS[n]["T"] - 1) * STEP + 2.2 for n in names]
        for ax, name in zip(subfig.subplots(1, len(names), width_ratios=widths), names):
            draw_pattern(ax, name)


# ----------------------------------------------------------------------------
# Word ids and batches
# ----------------------------------------------------------------------------

class Vocab:
    """A bijection between word strings and integer ids ``0 .. len(vocab) - 1``."""

    def __init__(self, words):
        self.itos = sorted(set(words))
        self.stoi = {w: i for i, w in enumerate(self.itos)}

    def __len__(self):
        return len(self.itos)

    def encode(self, words):
        """A list of words -> a list of ids."""
        return [self.stoi[w] for w in words]

    def decode(self, ids):
        """A sequence of ids (list or 1-D tensor) -> a list of words."""
        return [self.itos[int(i)] for i in ids]


def length_batches(inputs, targets, batch_size, seed=0):
    """Group examples into batches whose sequences all have the same length.

    Args:
        inputs: list of id lists (one per example, any lengths).
        targets: list of targets: an int per example (one label) or an id list of
            the same length as the example's input (one label per step).
        batch_size: the largest number of examples in a batch.
        seed: seeds the shuffling of examples before they are cut into batches.

    Returns:
        list of ``(X, Y)``: ``X`` a long tensor ``(B, T)``; ``Y`` a long tensor
        ``(B,)`` or ``(B, T)``. ``B <= batch_size``; ``T`` differs between batches.
    """
    rng = np.random.default_rng(seed)
    by_length = defaultdict(list)
    for i in rng.permutation(len(inputs)):
        by_length[len(inputs[i])].append(i)
    batches = []
    for length in sorted(by_length):
        idx = by_length[length]
        for start in range(0, len(idx), batch_size):
            chunk = idx[start:start + batch_size]
            X = torch.tensor([inputs[i] for i in chunk], dtype=torch.long)
            Y = torch.tensor([targets[i] for i in chunk], dtype=torch.long)
            batches.append((X, Y))
    return batches


# ----------------------------------------------------------------------------
# Many to one: sentiment with negation scope
# ----------------------------------------------------------------------------

SUBJECTS = ["film", "plot", "acting", "ending", "music", "script"]
INTENSIFIERS = ["very", "really", "quite", "truly", "terribly"]
POSITIVE = ["good", "great", "funny", "moving", "clever"]
NEGATIVE = ["bad", "dull", "boring", "silly", "weak"]
# Sentiment-neutral afterthoughts; each can take a "not" without changing the review's polarity.
TAILS = [("and", "i", "did", "{not}", "expect", "that"),
         ("though", "it", "was", "{not}", "long"),
         ("and", "i", "had", "{not}", "read", "the", "book")]


def review_sentence(rng, p_not=0.3):
    """One review sentence and its label.

    ``the <subject> was [not] <0-2 intensifiers> <adjective> , <tail with or without not> .``

    The adjective's polarity (positive with probability 1/2) and the two "not"s
    (each with probability ``p_not``) are drawn independently. The label is the
    adjective's polarity, flipped if and only if the "not" *before* the adjective
    is present.

    Returns:
        (words, label, info): a list of str; 1 for positive, 0 for negative; a dict
        with ``negated`` (the "not" before the adjective), ``tail_not`` (the "not"
        in the afterthought) and ``adjective_index``.
    """
    positive = bool(rng.integers(2))
    negated = bool(rng.random() < p_not)
    tail_not = bool(rng.random() < p_not)
    words = ["the", SUBJECTS[rng.integers(len(SUBJECTS))], "was"]
    if negated:
        words.append("not")
    words += [INTENSIFIERS[i] for i in rng.choice(len(INTENSIFIERS), size=rng.integers(3), replace=False)]
    adjectives = POSITIVE if positive else NEGATIVE
    adjective_index = len(words)
    words.append(adjectives[rng.integers(len(adjectives))])
    words.append(",")
    for w in TAILS[rng.integers(len(TAILS))]:
        if w != "{not}":
            words.append(w)
        elif tail_not:
            words.append("not")
    words.append(".")
    label = int(positive != negated)
    return words, label, dict(negated=negated, tail_not=tail_not, adjective_index=adjective_index)


def _sample_unseen(sample, n, rng, exclude):
    """``n`` draws of ``sample(rng)`` whose word list (first element) is not in ``exclude``."""
    exclude = {tuple(s) for s in exclude}
    out = []
    while len(out) < n:
        item = sample(rng)
        if tuple(item[0]) not in exclude:
            out.append(item)
    return out


def review_corpus(n, seed, exclude=()):
    """``n`` review sentences from ``review_sentence``, none of them in ``exclude`` (a
    collection of word lists, e.g. the training sentences).

    Returns lists (sentences, labels, infos).
    """
    rng = np.random.default_rng(seed)
    sentences, labels, infos = zip(*_sample_unseen(review_sentence, n, rng, exclude))
    return list(sentences), list(labels), list(infos)


# ----------------------------------------------------------------------------
# Many to many, aligned: part-of-speech tagging with ambiguous words
# ----------------------------------------------------------------------------

TAGS = ["ADJ", "ADP", "AUX", "DET", "NOUN", "PRON", "PUNCT", "VERB"]
LEXICON = {
    "DET": ["the", "a", "this", "my"],
    "ADJ": ["big", "small", "red", "new"],
    "NOUN": ["dog", "man", "river", "boat", "can", "fish", "saw", "watch", "duck", "book"],
    "PRON_SUBJ": ["they", "we", "i", "you"],
    "PRON_OBJ": ["it", "them"],
    "AUX": ["can", "will", "must"],
    "VERB_BASE": ["see", "like", "fish", "watch", "duck", "book", "saw"],   # after an auxiliary
    "VERB_PAST": ["saw", "liked", "watched", "fished", "found"],          # without one
    "ADP": ["near", "with", "on", "by"],
}
AMBIGUOUS = sorted({w for cls, ws in LEXICON.items() for w in ws
                    if sum(w in v for v in LEXICON.values()) > 1})


def _pick(rng, cls):
    words = LEXICON[cls]
    return words[rng.integers(len(words))]


def _noun_phrase(rng, subject):
    """``DET [ADJ] NOUN`` or a pronoun. Returns a list of (word, tag) pairs."""
    if rng.random() < 0.25:
        return [(_pick(rng, "PRON_SUBJ" if subject else "PRON_OBJ"), "PRON")]
    words = [(_pick(rng, "DET"), "DET")]
    if rng.random() < 0.3:
        words.append((_pick(rng, "ADJ"), "ADJ"))
    return words + [(_pick(rng, "NOUN"), "NOUN")]


def tagged_sentence(rng):
    """One sentence with its gold tags: subject, [auxiliary] verb, [object], [prepositional phrase], "."

    Every ambiguous word's tag is decided by the words to its left: after a
    determiner or an adjective it is a noun, after an auxiliary a verb, right
    after the subject an auxiliary (*can*) or a past-tense verb (*saw*).

    Returns:
        (words, tags): two lists of str of the same length.
    """
    pairs = _noun_phrase(rng, subject=True)
    if rng.random() < 0.5:
        pairs += [(_pick(rng, "AUX"), "AUX"), (_pick(rng, "VERB_BASE"), "VERB")]
    else:
        pairs.append((_pick(rng, "VERB_PAST"), "VERB"))
    if rng.random() < 0.7:
        pairs += _noun_phrase(rng, subject=False)
    if rng.random() < 0.3:
        pairs += [(_pick(rng, "ADP"), "ADP"), (_pick(rng, "DET"), "DET"), (_pick(rng, "NOUN"), "NOUN")]
    pairs.append((".", "PUNCT"))
    words, tags = zip(*pairs)
    return list(words), list(tags)


def tagged_corpus(n, seed, exclude=()):
    """``n`` sentences from ``tagged_sentence``, none of them in ``exclude`` (a collection of
    word lists). Returns (list of word lists, list of tag lists)."""
    rng = np.random.default_rng(seed)
    words, tags = zip(*_sample_unseen(tagged_sentence, n, rng, exclude))
    return list(words), list(tags)


# ----------------------------------------------------------------------------
# Language modelling: a probabilistic finite-state grammar
# ----------------------------------------------------------------------------

class Grammar:
    """A probabilistic finite-state grammar of English-like sentences with agreement.

    ``the dog near the cats sees the bird .``,  ``the children that like the horse follow .``

    The subject is ``the`` + a noun, optionally followed by a prepositional phrase
    (``near the cats``) or a relative clause (``that like the horse``); then the
    main verb, which agrees in number with the subject noun (as does the verb of
    the relative clause), an optional object and an optional phrase after it, and
    ``.``. Every noun's number is drawn independently, so a noun between the
    subject and its verb says nothing about the verb (an *attractor*).

    States are strings; ``arcs[state]`` is a list of ``(probability, category,
    next_state)``; ``categories[category]`` is a list of ``(word, probability)``.
    Emitting ``.`` leads to the final state ``END``. A sentence is a list of words
    ending in ``.``; its probability sums over all paths that emit it (forward
    algorithm), so the grammar need not be unambiguous.
    """

    def __init__(self):
        zipf = lambda ws: [(w, (1 / (r + 1)) / sum(1 / (k + 1) for k in range(len(ws))))
                           for r, w in enumerate(ws)]
        self.categories = {
            "DET": [("the", 1.0)], "THAT": [("that", 1.0)], "STOP": [(".", 1.0)],
            "N_sg": zipf(["dog", "cat", "bird", "horse", "child"]),
            "N_pl": zipf(["dogs", "cats", "birds", "horses", "children"]),
            "V_sg": zipf(["sees", "likes", "chases", "follows"]),
            "V_pl": zipf(["see", "like", "chase", "follow"]),
            "P": zipf(["near", "behind", "with"]),
        }
        # The main verb is its own category (same words as V_sg / V_pl) so that a
        # sampled sentence can say where its main verb is.
        self.categories["MAIN_sg"] = self.categories["V_sg"]
        self.categories["MAIN_pl"] = self.categories["V_pl"]
        nouns = lambda nxt: [(0.5, "N_sg", nxt), (0.5, "N_pl", nxt)]
        arcs = {"START": [(1.0, "DET", "SUBJ_DET")],
                "SUBJ_DET": [(0.5, "N_sg", "SUBJ_sg"), (0.5, "N_pl", "SUBJ_pl")],
                "VP": [(0.3, "STOP", "END"), (0.7, "DET", "OBJ")],
                "OBJ": nouns("OBJ_N"),
                "OBJ_N": [(0.6, "STOP", "END"), (0.4, "P", "OBJ_P")],
                "OBJ_P": [(1.0, "DET", "OBJ_PDET")],
                "OBJ_PDET": nouns("LAST"),
                "LAST": [(1.0, "STOP", "END")]}
        for n in ("sg", "pl"):
            arcs.update({
                f"SUBJ_{n}": [(0.3, "P", f"PP_{n}"), (0.2, "THAT", f"RC_{n}"), (0.5, f"MAIN_{n}", "VP")],
                f"PP_{n}": [(1.0, "DET", f"PPDET_{n}")],
                f"PPDET_{n}": nouns(f"MOD_{n}"),
                f"RC_{n}": [(1.0, f"V_{n}", f"RCV_{n}")],
                f"RCV_{n}": [(0.6, "DET", f"RCDET_{n}"), (0.4, f"MAIN_{n}", "VP")],
                f"RCDET_{n}": nouns(f"MOD_{n}"),
                f"MOD_{n}": [(1.0, f"MAIN_{n}", "VP")],
            })
        self.arcs = arcs
        self.words = sorted({w for ws in self.categories.values() for w, _ in ws})
        self._emission = {cat: dict(ws) for cat, ws in self.categories.items()}
        for state, out in arcs.items():
            assert abs(sum(p for p, _, _ in out) - 1) < 1e-12, state

    def sample(self, rng):
        """One sentence. Returns (words, info) with info = dict(main_verb=index, plural=bool,
        attractor=None or the number (True = plural) of the noun just before the main verb,
        if that noun is not the subject)."""
        state, words, cats = "START", [], []
        while state != "END":
            out = self.arcs[state]
            p, cat, state = out[rng.choice(len(out), p=[a[0] for a in out])]
            ws = self.categories[cat]
            words.append(ws[rng.choice(len(ws), p=[q for _, q in ws])][0])
            cats.append(cat)
        main = next(i for i, c in enumerate(cats) if c.startswith("MAIN"))
        before = cats[main - 1]
        attractor = None if main == 2 or not before.startswith("N") else before == "N_pl"
        return words, dict(main_verb=main, plural=cats[main] == "MAIN_pl", attractor=attractor)

    def corpus(self, n, seed):
        """``n`` sampled sentences. Returns (list of word lists, list of info dicts)."""
        rng = np.random.default_rng(seed)
        sents, infos = zip(*(self.sample(rng) for _ in range(n)))
        return list(sents), list(infos)

    def next_words(self, prefix):
        """The set of words that can follow ``prefix`` (a list of words) in some sentence of the grammar."""
        states = {"START"}
        for w in prefix:
            states = {nxt for state in states for _, cat, nxt in self.arcs.get(state, [])
                      if w in self._emission[cat]}
        return {w for state in states for _, cat, _ in self.arcs.get(state, []) for w in self._emission[cat]}

    def log_prob(self, words):
        """Natural log of the probability that the grammar generates exactly ``words``
        (``-inf`` if it cannot). Forward algorithm over the states."""
        alpha = {"START": 1.0}
        for w in words:
            new = defaultdict(float)
            for state, a in alpha.items():
                for p, cat, nxt in self.arcs.get(state, []):
                    q = self._emission[cat].get(w, 0.0)
                    if q > 0:
                        new[nxt] += a * p * q
            alpha = new
        total = alpha.get("END", 0.0)
        return math.log(total) if total > 0 else -math.inf


class UnigramLM:
    """An add-k smoothed unigram model, P(w) = (count(w) + k) / (N + k |V|): context is ignored."""

    def __init__(self, sentences, vocab_words, k=1.0):
        self.counts = Counter(w for s in sentences for w in s)
        self.total = sum(self.counts.values()) + k * len(vocab_words)
        self.k = k

    def log_prob(self, words):
        """Natural log of P(words), every word predicted independently of the others."""
        return sum(math.log((self.counts[w] + self.k) / self.total) for w in words)


class BigramLM:
    """An add-k smoothed bigram model, P(w | v) = (count(v, w) + k) / (count(v) + k |V|).

    Sentences are lists of words ending in ``.``; the model also predicts the first
    word from the start symbol ``<s>``.
    """

    def __init__(self, sentences, vocab_words, k=0.1):
        self.words, self.k = list(vocab_words), k
        self.counts = defaultdict(Counter)
        for s in sentences:
            for v, w in zip(["<s>"] + s[:-1], s):
                self.counts[v][w] += 1

    def prob(self, v, w):
        c = self.counts[v]
        return (c[w] + self.k) / (sum(c.values()) + self.k * len(self.words))

    def log_prob(self, words):
        """Natural log of P(words), predicting every word including the final ``.``."""
        return sum(math.log(self.prob(v, w)) for v, w in zip(["<s>"] + words[:-1], words))
