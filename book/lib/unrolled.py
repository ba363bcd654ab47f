"""Drawings of a recurrent network, folded and unrolled in time.

The chapters on the Elman RNN and on backpropagation through time draw the
same picture several times: inputs x_1..x_T along the bottom, hidden states
h_0..h_T along the middle, one arrow per weight matrix. Only the decorations
change (gradient arrows, loss terms, truncation boundaries), so the picture
lives here, once, and the chapters call it with options.

Coordinates: step t sits at x = t * STEP; inputs at y = 0, states at y = 1.6,
losses at y = 3.2. Every function draws on a given matplotlib Axes and
returns nothing.
"""

from matplotlib.patches import FancyArrowPatch, FancyBboxPatch

STEP = 1.8          # horizontal distance between time steps
Y_X, Y_H, Y_L = 0.0, 1.6, 3.2
BOX_W, BOX_H = 0.9, 0.6

FORWARD = "#1f4e79"   # forward computation
BACKWARD = "#c0392b"  # gradient flow
CUT = "#999999"       # gradient paths removed by truncation


def _box(ax, x, y, text, face="#ffffff", edge="#333333"):
    """A rounded box of size BOX_W x BOX_H centred at (x, y) with a TeX label."""
    ax.add_patch(FancyBboxPatch((x - BOX_W / 2, y - BOX_H / 2), BOX_W, BOX_H,
                                boxstyle="round,pad=0.02,rounding_size=0.12",
                                facecolor=face, edgecolor=edge, linewidth=1.4))
    ax.text(x, y, text, ha="center", va="center", fontsize=13)


def _arrow(ax, start, end, color, label=None, label_offset=(0.0, 0.0),
           style="-|>", linestyle="-", rad=0.0, fontsize=11):
    """An arrow from point `start` to point `end`, optionally labelled at its middle."""
    ax.add_patch(FancyArrowPatch(start, end, arrowstyle=style, mutation_scale=14,
                                 color=color, linewidth=1.5, linestyle=linestyle,
                                 connectionstyle=f"arc3,rad={rad}"))
    if label is not None:
        mx = (start[0] + end[0]) / 2 + label_offset[0]
        my = (start[1] + end[1]) / 2 + label_offset[1]
        ax.text(mx, my, label, ha="center", va="center", fontsize=fontsize, color=color,
                bbox=dict(facecolor="white", edgecolor="none", pad=0.5))


def draw_folded(ax):
    """The recurrent cell drawn once, with its state fed back through W_h (a self-loop)."""
    _box(ax, 0, Y_X, r"$x_t$")
    _box(ax, 0, Y_H, r"$h_t$", face="#eaf1f8")
    _arrow(ax, (0, Y_X + BOX_H / 2), (0, Y_H - BOX_H / 2), FORWARD, r"$W_x$", (0.35, 0))
    # The self-loop leaves the right side of the state box, turns above it and re-enters from the top.
    loop_x, loop_y = 1.0, Y_H + 0.85
    ax.plot([BOX_W / 2, loop_x, loop_x, 0], [Y_H, Y_H, loop_y, loop_y], color=FORWARD, linewidth=1.5)
    _arrow(ax, (0, loop_y), (0, Y_H + BOX_H / 2), FORWARD)
    ax.text(loop_x / 2, loop_y + 0.22, r"$W_h$", ha="center", color=FORWARD, fontsize=11)
    # An arrow pointing at the unrolled picture, which is drawn on the next Axes.
    _arrow(ax, (1.45, Y_H / 2 + 0.2), (2.35, Y_H / 2 + 0.2), "#333333", "unroll", (0, 0.3))
    ax.set_xlim(-0.7, 2.5)
    ax.set_ylim(-0.6, Y_H + 1.3)
    ax.set_aspect("equal")
    ax.axis("off")


def draw_unrolled(ax, T=4, losses=False, backward=False, cut_every=None):
    """The network unrolled over T steps: x_1..x_T, h_0..h_T, the same W_x, W_h, b at every step.

    Args:
        ax: matplotlib Axes to draw on.
        T: number of time steps drawn.
        losses: draw a loss term l_t above every state h_t (as in L = sum_t l_t).
        backward: draw the gradient flow of backpropagation through time:
            from each l_t down into h_t, and from h_{t+1} back into h_t.
        cut_every: if an int k, mark truncated BPTT with chunks of k steps:
            dashed boundaries after steps k, 2k, ..., and the backward arrows that
            cross a boundary drawn grey and crossed out.
    """
    for t in range(T + 1):
        _box(ax, t * STEP, Y_H, rf"$h_{t}$", face="#eaf1f8")
        if t == 0:
            continue
        x = t * STEP
        _box(ax, x, Y_X, rf"$x_{t}$")
        _arrow(ax, (x, Y_X + BOX_H / 2), (x, Y_H - BOX_H / 2), FORWARD,
               r"$W_x$", (0.33, 0))
        _arrow(ax, (x - STEP + BOX_W / 2, Y_H + 0.1), (x - BOX_W / 2, Y_H + 0.1), FORWARD,
               r"$W_h$", (0, 0.28))
        if losses or backward:
            _box(ax, x, Y_L, rf"$\ell_{t}$", face="#fdf2e9")
            _arrow(ax, (x - 0.12, Y_H + BOX_H / 2), (x - 0.12, Y_L - BOX_H / 2), FORWARD)
        if backward:
            _arrow(ax, (x + 0.12, Y_L - BOX_H / 2), (x + 0.12, Y_H + BOX_H / 2), BACKWARD,
                   r"$\partial \ell_{%d}/\partial h_{%d}$" % (t, t), (0.62, 0), fontsize=10)
            crosses = cut_every is not None and (t - 1) % cut_every == 0 and t > 1
            color = CUT if crosses else BACKWARD
            start, end = (x - BOX_W / 2, Y_H - 0.12), (x - STEP + BOX_W / 2, Y_H - 0.12)
            _arrow(ax, start, end, color, label=None if crosses else r"$W_h^\top$",
                   label_offset=(0, -0.25), linestyle="--" if crosses else "-")
            if crosses:
                mx = (start[0] + end[0]) / 2
                ax.text(mx, Y_H - 0.12, r"$\times$", ha="center", va="center",
                        fontsize=18, color=BACKWARD)
    if cut_every is not None:
        for t in range(cut_every, T, cut_every):
            bx = t * STEP + STEP / 2
            ax.plot([bx, bx], [Y_X - 0.5, Y_L + 0.5], color=CUT, linestyle=":", linewidth=1.5)
    top = Y_L + 0.7 if (losses or backward) else Y_H + 0.7
    ax.set_xlim(-0.7, T * STEP + 0.8)
    ax.set_ylim(Y_X - 0.6, top)
    ax.set_aspect("equal")
    ax.axis("off")
