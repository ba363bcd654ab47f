"""Elman (1990), Simulation 4, reproduced: corpus, exact next-word distributions, SRN training, tree checks.

Elman, J. L. (1990). Finding structure in time. Cognitive Science 14, 179-211.

The chapter `elman1990.md` imports from here the data and the analysis, which are too long for a cell:

- the sentence generator of the paper's Simulation 4 (its 29-word lexicon and the templates of its Table 4);
- the exact next-word distributions of that generator, with and without knowledge of sentence boundaries;
- helpers that cut the stream into batches and read a trained network's hidden states;
- helpers that read a scipy linkage matrix as a tree of word sets, and a dendrogram plot.

The network itself (`SRN`) and its two learning rules (`train_srn`) are the lesson, so they live in the chapter.

Shapes: N is the number of words in a stream, V = 29 the vocabulary, D = 31 the input units
(29 words, the novel word "zog", one spare unit), H = 150 the hidden units.
"""
import numpy as np
import torch
from scipy.cluster.hierarchy import dendrogram

# ---------------------------------------------------------------- the grammar
CATEGORIES = {
    "NOUN-HUM": ["man", "woman", "boy", "girl"],
    "NOUN-ANIM": ["cat", "mouse", "dog"],
    "NOUN-AGRESS": ["lion", "monster", "dragon"],
    "NOUN-INANIM": ["book", "rock", "car"],
    "NOUN-FOOD": ["cookie", "bread", "sandwich"],
    "NOUN-FRAG": ["glass", "plate"],
    "VERB-INTRAN": ["think", "sleep", "exist"],
    "VERB-PERCEPT": ["see", "smell"],
    "VERB-TRAN": ["see", "chase", "like"],
    "VERB-AGPAT": ["move", "break"],
    "VERB-DESTROY": ["break", "smash"],
    "VERB-EAT": ["eat"],
}

# Table 4 of the paper, with the category prefixes (NOUN-, VERB-) left implicit.
TEMPLATES = [
    ("HUM", "EAT", "FOOD"), ("HUM", "PERCEPT", "INANIM"), ("HUM", "DESTROY", "FRAG"),
    ("HUM", "INTRAN"), ("HUM", "TRAN", "HUM"), ("HUM", "AGPAT", "INANIM"), ("HUM", "AGPAT"),
    ("ANIM", "EAT", "FOOD"), ("ANIM", "TRAN", "ANIM"), ("ANIM", "AGPAT", "INANIM"), ("ANIM", "AGPAT"),
    ("INANIM", "AGPAT"),
    ("AGRESS", "DESTROY", "FRAG"), ("AGRESS", "EAT", "HUM"), ("AGRESS", "EAT", "ANIM"), ("AGRESS", "EAT", "FOOD"),
]
NOUN_SLOTS = {"HUM", "ANIM", "AGRESS", "INANIM", "FOOD", "FRAG"}


def slot_words(slot):
    """The words that can fill a template slot such as "HUM" or "EAT"."""
    prefix = "NOUN-" if slot in NOUN_SLOTS else "VERB-"
    return CATEGORIES[prefix + slot]


# The vocabulary in the order of the categories above (a word in two verb categories appears once).
VOCAB = []
for _words in CATEGORIES.values():
    VOCAB += [w for w in _words if w not in VOCAB]
NOVEL = "zog"                      # the word of the type/token experiment, never seen in training
INPUT_WORDS = VOCAB + [NOVEL]      # input unit i is the one-hot of INPUT_WORDS[i]; unit 30 stays spare
V, D, H = len(VOCAB), len(INPUT_WORDS) + 1, 150
WORD_ID = {w: i for i, w in enumerate(INPUT_WORDS)}

# The groups against which the dendrogram is checked.
VERBS = sorted({w for c, ws in CATEGORIES.items() if c.startswith("VERB") for w in ws})
NOUNS = sorted({w for c, ws in CATEGORIES.items() if c.startswith("NOUN") for w in ws})
HUMANS = CATEGORIES["NOUN-HUM"]
ANIMALS = CATEGORIES["NOUN-ANIM"] + CATEGORIES["NOUN-AGRESS"]
ANIMATES = HUMANS + ANIMALS
INANIMATES = CATEGORIES["NOUN-INANIM"] + CATEGORIES["NOUN-FOOD"] + CATEGORIES["NOUN-FRAG"]


def verb_argument_structure():
    """Group the verbs by whether a direct object is absent, optional or obligatory in every template."""
    lengths = {}                     # verb -> set of sentence lengths in which it occurs
    for tpl in TEMPLATES:
        for w in slot_words(tpl[1]):
            lengths.setdefault(w, set()).add(len(tpl))
    names = {frozenset({2}): "object absent", frozenset({2, 3}): "object optional", frozenset({3}): "object obligatory"}
    groups = {}
    for w, ls in lengths.items():
        groups.setdefault(names[frozenset(ls)], []).append(w)
    return groups


# ---------------------------------------------------------------- the corpus
def generate_sentences(n, seed):
    """Draw n sentences: a template uniformly from the 16, then each slot's word uniformly from its category.

    Returns a list of (template index, tuple of words).
    """
    rng = np.random.default_rng(seed)
    sentences = []
    for j in rng.integers(len(TEMPLATES), size=n):
        words = tuple(slot_words(s)[rng.integers(len(slot_words(s)))] for s in TEMPLATES[j])
        sentences.append((int(j), words))
    return sentences


def to_stream(sentences, replace=None):
    """Concatenate the sentences into one stream of word ids, shape (N,), without boundaries.

    `replace` maps a word to another (e.g. {"man": "zog"}) before the words are turned into ids.
    """
    replace = replace or {}
    return np.array([WORD_ID[replace.get(w, w)] for _, ws in sentences for w in ws])


# ---------------------------------------------------------------- exact next-word distributions
def _emission(slot):
    """P(word | slot) over the V vocabulary words, shape (V,)."""
    p = np.zeros(V)
    for w in slot_words(slot):
        p[WORD_ID[w]] = 1.0 / len(slot_words(slot))
    return p


STATES = [(j, k) for j, tpl in enumerate(TEMPLATES) for k in range(len(tpl))]   # (template, slot index)
_EMIT = np.stack([_emission(TEMPLATES[j][k]) for j, k in STATES])               # (S, V)
_START = np.array([1.0 / len(TEMPLATES) if k == 0 else 0.0 for j, k in STATES])   # (S,)
_TRANS = np.zeros((len(STATES), len(STATES)))                                     # (S, S), row = from
for _s, (_j, _k) in enumerate(STATES):
    if _k + 1 < len(TEMPLATES[_j]):
        _TRANS[_s, STATES.index((_j, _k + 1))] = 1.0
    else:
        _TRANS[_s] = _START


def next_word_probs_boundaries(sentences):
    """P(next word | words so far of the current sentence), when sentence starts are known.

    Row t is the distribution of word t+1 of the stream given the current sentence's prefix up to word t
    (the template is inferred by Bayes' rule; after a sentence-final word the next word starts a new sentence).
    Returns an array of shape (N - 1, V).
    """
    rows = []
    for _, words in sentences:
        prior = _START                            # P(state of the current word | prefix), before seeing it
        for w in words:
            belief = prior * _EMIT[:, WORD_ID[w]]
            prior = (belief / belief.sum()) @ _TRANS
            rows.append(prior @ _EMIT)
    return np.array(rows[:-1])


def next_word_probs_stream(stream):
    """P(next word | every previous word of the stream), boundaries unknown: the forward algorithm.

    The generator is a hidden Markov model whose states are (template, slot) pairs; row t is the
    Bayes-optimal prediction of word t+1 from words 0..t. Returns an array of shape (N - 1, V).
    """
    belief, rows = _START.copy(), []
    for w in stream[:-1]:
        belief = belief * _EMIT[:, w]
        belief /= belief.sum()
        belief = belief @ _TRANS
        rows.append(belief @ _EMIT)
    return np.array(rows)


def cross_entropy(probs, targets):
    """Mean of -log probs[t, targets[t]] in nats; probs (N, V), targets (N,)."""
    return float(-np.mean(np.log(probs[np.arange(len(targets)), targets])))


# ---------------------------------------------------------------- reading the stream with a network
def parallel_streams(stream, streams):
    """Cut the stream (N,) into `streams` contiguous pieces to read side by side: (ids, targets), each (B, n).

    Row b of ids is the b-th piece; targets[b, t] is the word after ids[b, t]. The last few words are dropped
    so that the pieces have equal length n = (N - 1) // streams.
    """
    n = (len(stream) - 1) // streams
    ids = torch.as_tensor(stream[: n * streams].reshape(streams, n))
    targets = torch.as_tensor(stream[1: n * streams + 1].reshape(streams, n))
    return ids, targets


@torch.no_grad()
def run(model, stream):
    """Read the whole stream as one sequence from h_0 = 0: (next-word probs (N, V), hidden states (N, H)).

    `model(ids)` must return (logits (1, N, V), hidden states (1, N, H)), as the chapter's SRN does.
    """
    logits, hs = model(torch.as_tensor(stream)[None])
    return torch.softmax(logits[0].double(), -1).numpy(), hs[0].double().numpy()


def positions(sentences):
    """The position of every word of the stream inside its sentence (0, 1 or 2), shape (N,)."""
    return np.concatenate([np.arange(len(ws)) for _, ws in sentences])


def novel_word_mean(model, sentences, target, column=None):
    """Replace `target` by "zog" everywhere, read the stream with the trained model, average zog's states (H,).

    `column` (H,) optionally replaces zog's input weights (a column of weight_ih_l0) for this reading only.
    """
    w = model.rnn.weight_ih_l0
    saved = w[:, WORD_ID[NOVEL]].clone()
    if column is not None:
        with torch.no_grad():
            w[:, WORD_ID[NOVEL]] = column
    stream = to_stream(sentences, {target: NOVEL})
    _, hs = run(model, stream)
    with torch.no_grad():
        w[:, WORD_ID[NOVEL]] = saved
    return hs[stream == WORD_ID[NOVEL]].mean(axis=0)


def mean_states(hs, stream, words):
    """The mean hidden state of each word over its occurrences: hs (N, H), stream (N,) -> (len(words), H)."""
    return np.stack([hs[stream == WORD_ID[w]].mean(axis=0) for w in words])


# ---------------------------------------------------------------- reading a linkage matrix as a tree
def clusters(Z, labels):
    """Every cluster of the tree as a frozenset of labels, from the leaves up to the root (last)."""
    sets = [frozenset([l]) for l in labels]
    for a, b, *_ in Z:
        sets.append(sets[int(a)] | sets[int(b)])
    return sets


def root_split(Z, labels):
    """The two clusters joined last, i.e. the first split of the dendrogram."""
    sets = clusters(Z, labels)
    return sets[int(Z[-1, 0])], sets[int(Z[-1, 1])]


def smallest_cluster_containing(Z, labels, group):
    """The smallest cluster that contains every word of `group`."""
    return min((c for c in clusters(Z, labels) if set(group) <= c), key=len)


def check_group(Z, labels, group):
    """Is `group` exactly a cluster of the tree? Returns (bool, intruders of its smallest enclosing cluster)."""
    c = smallest_cluster_containing(Z, labels, group)
    return c == set(group), sorted(c - set(group))


def sibling_cluster(Z, labels, word):
    """The smallest cluster that contains `word` and at least one other leaf: where the word landed."""
    return min((c for c in clusters(Z, labels) if word in c and len(c) > 1), key=len)


def verdicts(Z, labels):
    """For every group of groups_to_check(): (is it exactly a cluster?, intruders of its smallest cluster)."""
    return {name: check_group(Z, labels, g) for name, g in groups_to_check().items()}


def groups_to_check():
    """The groups to look for in a tree: the branches of the paper's Figure 7 and the grammar's noun categories."""
    arg = verb_argument_structure()
    return {
        "verbs": VERBS, "nouns": NOUNS, "animates": ANIMATES, "inanimates": INANIMATES,
        "humans": HUMANS, "animals (ANIM + AGRESS)": ANIMALS,
        **{c: CATEGORIES[c] for c in ["NOUN-ANIM", "NOUN-AGRESS", "NOUN-INANIM", "NOUN-FOOD", "NOUN-FRAG"]},
        **{"verbs, " + k: arg[k] for k in ["object absent", "object optional", "object obligatory"]},
    }


def category_of(word):
    """A coarse label for colouring: "human", "small animal", "aggressor", "inanimate", "verb" or "novel"."""
    for name, group in [("human", HUMANS), ("small animal", CATEGORIES["NOUN-ANIM"]),
                        ("aggressor", CATEGORIES["NOUN-AGRESS"]), ("inanimate", INANIMATES), ("verb", VERBS)]:
        if word in group:
            return name
    return "novel"


COLORS = {"human": "tab:red", "small animal": "tab:orange", "aggressor": "tab:purple", "inanimate": "tab:green",
          "verb": "tab:blue", "novel": "black"}


def plot_dendrogram(Z, labels, ax, title=None, method="average"):
    """Draw the dendrogram of linkage Z horizontally, leaf labels coloured by category_of."""
    dendrogram(Z, labels=labels, orientation="left", ax=ax, color_threshold=0, above_threshold_color="0.3",
               leaf_font_size=10)
    for tick in ax.get_yticklabels():
        tick.set_color(COLORS[category_of(tick.get_text())])
        if tick.get_text() == NOVEL:
            tick.set_fontweight("bold")
    handles = [ax.plot([], [], "s", color=c, label=k)[0] for k, c in COLORS.items()
               if any(category_of(l) == k for l in labels)]
    ax.legend(handles=handles, loc="upper left", fontsize=9, frameon=False)
    ax.set_xlabel(f"Euclidean distance ({method} linkage)")
    ax.spines[["top", "right", "left"]].set_visible(False)
    if title:
        ax.set_title(title)
