"""Draw an edugrad computation graph with matplotlib (no graphviz needed).

The graph comes from `Tensor.get_graph_above()`, a list of (parent, child)
edges. We place the nodes in layers: a leaf (a tensor with no parents) sits in
layer 0, and every other node one layer below its deepest parent, so that all
arrows point downwards, from the inputs at the top to the loss at the bottom.
"""

from collections import Counter

import numpy as np
from matplotlib.patches import FancyBboxPatch


def node_label(tensor):
    """The text drawn in a node's box: its name and the shape of its value.

    Leaves carry the name they were given (`Tensor(..., name="x")`); op
    outputs are named by `tensor_op` after the operation (`"matmul"`).
    """
    shape = np.shape(tensor.value)
    shape_text = "scalar" if shape == () else str(shape)
    return f"{tensor.name}\n{shape_text}"


def layered_layout(root):
    """Compute a layer and a horizontal position for every node above `root`.

    Args:
        root: an edugrad Tensor (usually a scalar loss).

    Returns:
        (nodes, edges, pos): `nodes` maps id(tensor) -> tensor, `edges` is
        `root.get_graph_above()` (one entry per use of a parent, so a tensor
        used twice by the same op gives two edges), and `pos` maps
        id(tensor) -> (x, layer).
    """
    edges = root.get_graph_above()
    nodes = {id(root): root}
    for parent, child in edges:
        nodes[id(parent)] = parent
        nodes[id(child)] = child

    # Layer = length of the longest path from a leaf. Parents before children:
    # edugrad's own topological order guarantees that.
    layer = {}
    for tensor in root._topo_sort():
        parent_layers = [layer[id(p)] for p in tensor.parents]
        layer[id(tensor)] = 1 + max(parent_layers) if parent_layers else 0

    # Within a layer, order nodes by the mean position of their parents
    # (the "barycenter" heuristic), which keeps arrows from crossing.
    x = {}
    for level in range(max(layer.values()) + 1):
        members = [i for i in nodes if layer[i] == level]
        def key(i):
            parents = nodes[i].parents
            return np.mean([x[id(p)] for p in parents]) if parents else 0.0
        members.sort(key=key)
        for k, i in enumerate(members):
            x[i] = k - (len(members) - 1) / 2
    pos = {i: (x[i], layer[i]) for i in nodes}
    return nodes, edges, pos


def draw_graph(root, ax, box_width=1.6, box_height=0.6, layer_gap=0.9):
    """Draw the computation graph above `root` on the matplotlib axes `ax`.

    Leaves are drawn as light boxes, op outputs as darker ones; arrows go
    from parent to child. Repeated edges (a tensor used twice by one op) are
    drawn as separate curved arrows.
    """
    nodes, edges, pos = layered_layout(root)

    def centre(i):
        x, level = pos[i]
        return x * 1.25 * box_width, -level * (box_height + layer_gap)

    for i, tensor in nodes.items():
        cx, cy = centre(i)
        is_leaf = len(tensor.parents) == 0
        ax.add_patch(FancyBboxPatch(
            (cx - box_width / 2, cy - box_height / 2), box_width, box_height,
            boxstyle="round,pad=0.02",
            facecolor="#dbe9f6" if is_leaf else "#f6e3c8",
            edgecolor="#333333", linewidth=1.2))
        ax.text(cx, cy, node_label(tensor), ha="center", va="center",
                fontsize=10, family="monospace")

    seen = Counter()
    counts = Counter((id(p), id(c)) for p, c in edges)
    for parent, child in edges:
        key = (id(parent), id(child))
        k = seen[key]
        seen[key] += 1
        n = counts[key]
        # Spread repeated edges apart: shifted end points, opposite curvature.
        offset = 0.0 if n == 1 else (k - (n - 1) / 2)
        rad, dx = 0.3 * offset, 0.25 * box_width * offset
        px, py = centre(id(parent))
        qx, qy = centre(id(child))
        ax.annotate("", xy=(qx + dx, qy + box_height / 2),
                    xytext=(px + dx, py - box_height / 2),
                    arrowprops=dict(arrowstyle="-|>", color="#333333",
                                    shrinkA=2, shrinkB=2, lw=1.2,
                                    connectionstyle=f"arc3,rad={rad}"))

    xs = [centre(i)[0] for i in nodes]
    ys = [centre(i)[1] for i in nodes]
    ax.set_xlim(min(xs) - box_width, max(xs) + box_width)
    ax.set_ylim(min(ys) - box_height, max(ys) + box_height)
    ax.set_aspect("equal")
    ax.axis("off")
