"""Drawings for the chapter on batching, padding and masking.

Two pictures: a padded batch of sentences with its mask underneath, cell for
cell; and the orders in which the backward direction of a bidirectional RNN
can read a padded sentence. Both are built from the boxes and arrows of
``lib.unrolled``, so they look like the book's other diagrams. Every function
draws on a given matplotlib Axes and returns nothing.
"""

from lib.unrolled import BACKWARD, BOX_H, BOX_W, CUT, FORWARD, _arrow, _box

REAL = "#eaf1f8"      # a real token, or a mask entry of 1 (the colour of the states elsewhere)
PADDING = "#d9d9d9"   # a padding position, or a mask entry of 0
COL = 1.05            # horizontal distance between time steps
ROW = 0.8             # vertical distance between rows


def draw_padded_batch(ax, rows, mask, pad="PAD"):
    """A padded batch (top) and its mask (bottom), aligned column by column.

    Args:
        ax: matplotlib Axes to draw on.
        rows: B lists of T tokens (str), padding included.
        mask: B sequences of T numbers, 1 for a real token and 0 for padding.
        pad: the padding token, drawn on grey.
    """
    B, T = len(rows), len(rows[0])
    top = 2 * B * ROW                              # y of the first token row
    for t in range(T):
        ax.text(t * COL, top + 0.6, f"t = {t + 1}", ha="center", va="center", fontsize=11)
    for b in range(B):
        y_tok, y_mask = top - b * ROW, top - (B + 0.5 + b) * ROW
        for y, label in [(y_tok, f"sentence {b + 1}"), (y_mask, f"mask row {b + 1}")]:
            ax.text(-0.75, y, label, ha="right", va="center", fontsize=11)
        for t in range(T):
            _box(ax, t * COL, y_tok, rows[b][t], face=PADDING if rows[b][t] == pad else REAL)
            _box(ax, t * COL, y_mask, str(int(mask[b][t])), face=REAL if mask[b][t] else PADDING)
    ax.set_xlim(-2.3, (T - 1) * COL + 0.55)
    ax.set_ylim(top - (2 * B - 0.5) * ROW - 0.45, top + 0.85)
    ax.set_aspect("equal")
    ax.axis("off")


def draw_reading_orders(ax, tokens, length, pad="PAD"):
    """The order in which a backward RNN reads one padded sentence, three ways.

    Row 1 is the sentence as padded; row 2 flips the whole padded row, so the
    backward RNN starts on the padding (wrong); row 3 reverses only the first
    ``length`` tokens and leaves the padding at the end (right). Arrows link
    the tokens in reading order; an arrow into padding is dashed and grey.

    Args:
        ax: matplotlib Axes to draw on.
        tokens: the T tokens of the padded sentence (str).
        length: the number of real tokens.
    """
    orders = [("as padded", list(tokens), FORWARD),
              ("flipped whole row (wrong)", list(tokens[::-1]), BACKWARD),
              ("reversed within its length (right)", list(tokens[:length][::-1]) + list(tokens[length:]), FORWARD)]
    for r, (label, row, colour) in enumerate(orders):
        y = -r * 1.3
        ax.text(-BOX_W / 2, y + BOX_H / 2 + 0.1, label, ha="left", va="bottom", fontsize=11, color=colour)
        for t, token in enumerate(row):
            _box(ax, t * 1.4, y, token, face=PADDING if token == pad else REAL)
            if t > 0:
                into_pad = token == pad
                _arrow(ax, ((t - 1) * 1.4 + BOX_W / 2, y), (t * 1.4 - BOX_W / 2, y),
                       CUT if into_pad else colour, linestyle="--" if into_pad else "-")
        if r > 0:
            ax.text(0, y - BOX_H / 2 - 0.15, "start", ha="center", va="top", fontsize=9, color=colour)
    ax.set_xlim(-0.55, (len(tokens) - 1) * 1.4 + 0.55)
    ax.set_ylim(-2 * 1.3 - 0.65, 0.7)
    ax.set_aspect("equal")
    ax.axis("off")
