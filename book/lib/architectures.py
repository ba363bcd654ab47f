"""Drawings of a deep (stacked) and of a bidirectional recurrent network, unrolled in time.

The chapter "Deep and bidirectional RNNs" draws the two extensions in the style
of the unrolled Elman network of `unrolled.py`, and reuses its boxes, arrows
and spacing: step t sits at x = t * STEP, inputs at y = 0.

* ``draw_deep``: L layers stacked on the inputs, each a chain of states with
  its own weights; layer l reads the states of layer l - 1.
* ``draw_bidirectional``: a forward chain and a backward chain over the same
  inputs, their states concatenated at every position.

Every function draws on a given matplotlib Axes and returns nothing.
"""

from matplotlib.patches import FancyBboxPatch

from lib.unrolled import BOX_H, BOX_W, FORWARD, STEP, _arrow, _box

REVERSE = "#1e7b4a"            # the backward (right-to-left) direction
FACE_FWD, FACE_BWD = "#eaf1f8", "#e8f6ee"
FACE_OUT = "#fdf2e9"
LAYER_GAP = 1.6                # vertical distance between layers


def _split_box(ax, x, y, left, right, width=1.45):
    """A box of two halves side by side, the concatenation [left; right] of two states."""
    for dx, text, face in [(-width / 4, left, FACE_FWD), (width / 4, right, FACE_BWD)]:
        ax.add_patch(FancyBboxPatch((x + dx - width / 4, y - BOX_H / 2), width / 2, BOX_H,
                                    boxstyle="round,pad=0.02,rounding_size=0.1",
                                    facecolor=face, edgecolor="#333333", linewidth=1.4))
        ax.text(x + dx, y, text, ha="center", va="center", fontsize=12)


def draw_deep(ax, L=3, T=4):
    """A stacked RNN of L layers unrolled over T steps.

    Row l (l = 1..L) holds h^(l)_0..h^(l)_T; the vertical arrows into row l are
    W_x^(l), the horizontal ones W_h^(l): the same within a row, different
    between rows. The top row is what torch returns as `output`, the last
    column (one final state per layer) what it returns as `h_n`.
    """
    for t in range(1, T + 1):
        _box(ax, t * STEP, 0, rf"$x_{t}$")
    for l in range(1, L + 1):
        y = l * LAYER_GAP
        for t in range(T + 1):
            _box(ax, t * STEP, y, rf"$h^{{({l})}}_{t}$", face=FACE_FWD)
            if t == 0:
                continue
            x = t * STEP
            _arrow(ax, (x, y - LAYER_GAP + BOX_H / 2), (x, y - BOX_H / 2), FORWARD,
                   rf"$W_x^{{({l})}}$", (0.42, 0), fontsize=10)
            _arrow(ax, (x - STEP + BOX_W / 2, y), (x - BOX_W / 2, y), FORWARD,
                   rf"$W_h^{{({l})}}$", (0, 0.26), fontsize=10)
    top = L * LAYER_GAP
    # What torch.nn.RNN returns: the top row (output) and the last column (h_n).
    ax.text(T * STEP / 2 + STEP / 2, top + 0.72, r"output $(B, T, H)$: the top layer's states",
            ha="center", va="center", fontsize=11, color="#a04000")
    right = T * STEP + BOX_W / 2 + 0.2
    ax.plot([right, right + 0.15, right + 0.15, right],
            [LAYER_GAP - BOX_H / 2, LAYER_GAP - BOX_H / 2, top + BOX_H / 2, top + BOX_H / 2],
            color="#a04000", linewidth=1.4)
    ax.text(right + 0.3, (LAYER_GAP + top) / 2, r"$h_n$" + "\n" + r"$(L, B, H)$", ha="left",
            va="center", fontsize=11, color="#a04000")
    ax.set_xlim(-0.7, T * STEP + 2.1)
    ax.set_ylim(-0.6, top + 1.1)
    ax.set_aspect("equal")
    ax.axis("off")


def draw_bidirectional(ax, T=4):
    """A bidirectional RNN unrolled over T steps.

    Bottom to top: inputs x_1..x_T; the forward chain (blue), read left to
    right from its initial state at position 0; the backward chain (green),
    read right to left from its initial state at position T + 1; and at every
    position the concatenation [forward; backward] of the two states there.
    """
    y_f, y_b, y_o = 1.6, 3.2, 4.8
    fwd, bwd = r"\overrightarrow{h}", r"\overleftarrow{h}"
    _box(ax, 0, y_f, rf"${fwd}_0$", face=FACE_FWD)
    _box(ax, (T + 1) * STEP, y_b, rf"${bwd}_{{{T + 1}}}$", face=FACE_BWD, edge=REVERSE)
    for t in range(1, T + 1):
        x = t * STEP
        _box(ax, x, 0, rf"$x_{t}$")
        _box(ax, x, y_f, rf"${fwd}_{t}$", face=FACE_FWD)
        _box(ax, x, y_b, rf"${bwd}_{t}$", face=FACE_BWD, edge=REVERSE)
        _split_box(ax, x, y_o, rf"${fwd}_{t}$", rf"${bwd}_{t}$")
        _arrow(ax, (x - 0.1, BOX_H / 2), (x - 0.1, y_f - BOX_H / 2), FORWARD)
        # x_t also feeds the backward chain: around the right of the forward box.
        _arrow(ax, (x + 0.25, BOX_H / 2), (x + 0.25, y_b - BOX_H / 2), REVERSE, rad=0.35)
        # The forward state goes up around the left of the backward box.
        _arrow(ax, (x - 0.25, y_f + BOX_H / 2), (x - 0.36, y_o - BOX_H / 2), FORWARD, rad=-0.35)
        _arrow(ax, (x + 0.2, y_b + BOX_H / 2), (x + 0.36, y_o - BOX_H / 2), REVERSE)
        # Each chain has one recurrent matrix; it is labelled once, where no other arrow passes.
        _arrow(ax, (x - STEP + BOX_W / 2, y_f), (x - BOX_W / 2, y_f), FORWARD,
               r"$W_h^{\rightarrow}$" if t == 1 else None, (0, 0.3))
        _arrow(ax, (x + STEP - BOX_W / 2, y_b), (x + BOX_W / 2, y_b), REVERSE,
               r"$W_h^{\leftarrow}$" if t == T else None, (0, 0.3))
    ax.text(-0.55, y_f, "forward", ha="right", va="center", fontsize=11, color=FORWARD)
    ax.text(-0.55, y_b, "backward", ha="right", va="center", fontsize=11, color=REVERSE)
    ax.text(-0.55, y_o, "output", ha="right", va="center", fontsize=11, color="#a04000")
    ax.set_xlim(-2.1, (T + 1) * STEP + 0.7)
    ax.set_ylim(-0.6, y_o + 0.6)
    ax.set_aspect("equal")
    ax.axis("off")
