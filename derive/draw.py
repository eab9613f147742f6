"""Pictures of a network: layout once, then SVG, TikZ or PNG.

`--highlight w1` marks exactly the edges of w1's chain rule: the edges w1 sits on, then
every edge leaving a unit that w1 reaches (a softmax layer passes it to all its units).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from xml.sax.saxutils import escape

from . import api, typeset
from .errors import DeriveError, printable
from .network import Network
from .notation import latex_name

LABELLED_EDGES = 60  # more edges than this: weight names are left off (the picture stays legible)
X_GAP, Y_GAP, RADIUS = 160, 56, 18


@dataclass
class Unit:
    name: str  # i1, h1, or b1 for a bias
    x: float
    y: float
    kind: str  # input, unit, bias


@dataclass
class Edge:
    source: str
    target: str
    weight: str
    tied: bool = False
    highlighted: bool = False
    gradient: float | None = None
    control: tuple[float, float] | None = None  # a skip edge bends through this point


@dataclass
class Diagram:
    title: str
    units: dict[str, Unit] = field(default_factory=dict)
    edges: list[Edge] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    width: float = 0
    height: float = 0

    @property
    def labelled(self) -> bool:
        return len(self.edges) <= LABELLED_EDGES


def layout(network: Network, highlight: str | None = None, values: bool = False) -> Diagram:
    spec = network.spec
    columns = [[("input", name) for name in spec.inputs]]
    for layer in spec.layers:  # a layer's bias sits at the foot of the column feeding it
        biases = list(dict.fromkeys(b for b in layer.biases if b))
        columns[-1] += [("bias", f"{b}@{layer.name}") for b in biases]
        columns.append([("unit", layer.unit(j)) for j in range(1, layer.units + 1)])
    tallest = max(len(c) for c in columns)
    diagram = Diagram(printable(spec.name or spec.file), width=X_GAP * len(columns) + 80,
                      height=Y_GAP * tallest + 90)
    for index, column in enumerate(columns):
        top = 60 + (tallest - len(column)) * Y_GAP / 2
        for row, (kind, name) in enumerate(column):
            diagram.units[name] = Unit(name, 60 + index * X_GAP, top + row * Y_GAP, kind)
    uses: dict[str, int] = {}
    for layer in spec.layers:
        below = network.below(layer)
        for j in range(1, layer.units + 1):
            for source, weight in zip(below, layer.weights[j - 1]):
                if weight is None:  # no connection: no edge
                    continue
                diagram.edges.append(Edge(source, layer.unit(j), str(weight)))
                if isinstance(weight, str):  # a fixed number is tied to nothing
                    uses[weight] = uses.get(weight, 0) + 1
            bias = layer.biases[j - 1]
            if bias:
                diagram.edges.append(Edge(f"{bias}@{layer.name}", layer.unit(j), bias))
                uses[bias] = uses.get(bias, 0) + 1
    for edge in diagram.edges:
        edge.tied = uses.get(edge.weight, 0) > 1
    _bend_skips(diagram)
    diagram.notes = [f"{layer.name}: {layer.activation}" for layer in spec.layers]
    diagram.notes.append(f"loss: {spec.loss}")
    if spec.examples > 1:  # one picture serves every example: the weights are shared
        diagram.notes.append(f"{spec.examples} examples ({spec.reduction})")
    diagram.notes += [f"{layer.name}: {layer.conv.kind}, kernel "
                      f"{'×'.join(map(str, _kernel_shape(layer.conv.kernel)))}, stride "
                      f"{layer.conv.stride}, padding {layer.conv.padding}"
                      for layer in spec.layers if layer.conv is not None]
    if highlight is not None:
        _highlight(network, diagram, highlight)
    if values:
        _values(network, diagram)
    return diagram


def _bend_skips(diagram: Diagram) -> None:
    """An edge over a column or more arcs above the units between (drawn straight, it
    ran through them), each a little higher than the one before; the picture grows a
    margin on top for them."""
    skips = [e for e in diagram.edges
             if abs(diagram.units[e.target].x - diagram.units[e.source].x) > X_GAP * 1.5]
    if not skips:
        return
    margin = 30 + 8 * len(skips)
    for unit in diagram.units.values():
        unit.y += margin
    diagram.height += margin
    for k, edge in enumerate(skips):
        a, b = diagram.units[edge.source], diagram.units[edge.target]
        between = [u.y for u in diagram.units.values() if a.x < u.x < b.x]
        peak = min(between + [a.y, b.y]) - 1.6 * RADIUS - 8 * k
        edge.control = ((a.x + b.x) / 2, 2 * peak - (a.y + b.y) / 2)


def _point(diagram: Diagram, edge: Edge, t: float) -> tuple[float, float]:
    """The point at share t of an edge: along its line, or its arc (a quadratic Bezier)."""
    a, b = diagram.units[edge.source], diagram.units[edge.target]
    if edge.control is None:
        return a.x + (b.x - a.x) * t, a.y + (b.y - a.y) * t
    cx, cy = edge.control
    return ((1 - t) ** 2 * a.x + 2 * (1 - t) * t * cx + t ** 2 * b.x,
            (1 - t) ** 2 * a.y + 2 * (1 - t) * t * cy + t ** 2 * b.y)


def _kernel_shape(kernel: tuple) -> tuple[int, ...]:
    return (len(kernel), len(kernel[0])) if isinstance(kernel[0], tuple) else (len(kernel),)


def _highlight(network: Network, diagram: Diagram, name: str) -> None:
    if name not in network or network[name].kind not in ("weight", "bias"):
        raise DeriveError(f"--highlight: '{name}' is not a weight or bias of this network")
    reached: set[str] = set()
    for edge in diagram.edges:
        if edge.weight == name:
            edge.highlighted = True
            reached.add(edge.target)
    for layer in network.spec.layers:  # input side first, so reach flows forward
        units = [layer.unit(j) for j in range(1, layer.units + 1)]
        if layer.activation == "softmax" and reached & set(units):
            reached |= set(units)  # each output of a softmax depends on every net
        for edge in diagram.edges:
            if edge.source in reached and edge.source in units:
                edge.highlighted = True
                reached.add(edge.target)


def _values(network: Network, diagram: Diagram) -> None:
    result = api.gradients(network)
    if all(g.value is None for g in result.items):
        raise DeriveError("--values: the spec's values do not fix the gradients (add them "
                          "under values:)")
    by_name = {g.wrt: g.value for g in result.items}
    for edge in diagram.edges:
        edge.gradient = by_name.get(edge.weight)


# --- renderers ----------------------------------------------------------------------------

def label_places(diagram: Diagram) -> list[tuple[float, float]]:
    """Where each edge's label sits (its bottom centre), in edge order: along its edge,
    at the first share of its length where its box meets no label placed before and no
    unit (a fan of edges out of one unit would pile its labels up at one share)."""
    placed: list[tuple[float, float, float, float]] = [
        (u.x - RADIUS, u.y - RADIUS, u.x + RADIUS, u.y + RADIUS)
        for u in diagram.units.values()]
    places = []
    for edge in diagram.edges:
        b = diagram.units[edge.target]
        base = 0.22 + 0.5 * (b.y - 40) / max(diagram.height, 1)
        shares = [base] + [base + sign * step / 100 for step in range(4, 80, 4)
                           for sign in (1, -1)]
        best = None
        for share in shares:
            if not 0.08 <= share <= 0.92:
                continue
            x, y = _point(diagram, edge, share)
            y -= 2
            box = label_box(edge.weight, x, y)
            if not any(_overlap(box, other) for other in placed):
                best = (x, y)
                break
        if best is None:  # nowhere free: the base share, as before
            best = _point(diagram, edge, base)
            best = (best[0], best[1] - 2)
        placed.append(label_box(edge.weight, *best))
        places.append(best)
    return places


def label_box(text: str, x: float, y: float) -> tuple[float, float, float, float]:
    """The box of a label of 11px type centred at x, its baseline at y."""
    width = 6.2 * len(text) + 2
    return x - width / 2, y - 11, x + width / 2, y + 1


def _overlap(a, b) -> bool:
    return a[0] < b[2] and b[0] < a[2] and a[1] < b[3] and b[1] < a[3]


def _label(name: str) -> str:
    return name.split("@")[0]


def _color(edge: Edge, largest: float) -> str:
    if edge.gradient is not None and largest > 0:
        share = min(1.0, abs(edge.gradient) / largest)
        level = int(220 - 200 * share)
        return f"rgb(220,{level},{level})" if edge.gradient > 0 else f"rgb({level},{level},220)"
    return "#d62728" if edge.highlighted else "#555555"


def _largest(diagram: Diagram) -> float:
    return max((abs(e.gradient) for e in diagram.edges if e.gradient is not None), default=0)


def svg(diagram: Diagram) -> str:
    largest = _largest(diagram)
    out = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{diagram.width:.0f}" '
           f'height="{diagram.height:.0f}" viewBox="0 0 {diagram.width:.0f} '
           f'{diagram.height:.0f}" font-family="sans-serif" font-size="11">',
           f'<title>{escape(diagram.title)}</title>',
           '<defs><marker id="arrow" viewBox="0 0 10 10" refX="10" refY="5" '
           'markerWidth="7" markerHeight="7" orient="auto-start-reverse">'
           '<path d="M 0 0 L 10 5 L 0 10 z" fill="context-stroke"/></marker></defs>',
           f'<text x="20" y="24" font-size="15">{escape(diagram.title)}</text>']
    thin = 0.4 if not diagram.labelled else 1.2
    places = label_places(diagram) if diagram.labelled else []
    for edge in diagram.edges:
        (x1, y1), (x2, y2) = _ends(diagram, edge)
        width = 3 if edge.highlighted else thin
        dash = ' stroke-dasharray="5,3"' if edge.tied else ""
        tip = edge.weight + (f" = {edge.gradient:.4g} (dE/d{edge.weight})"
                             if edge.gradient is not None else "")
        paint = (f'stroke="{_color(edge, largest)}" stroke-width="{width}"{dash} '
                 f'marker-end="url(#arrow)"><title>{escape(tip)}</title>')
        if edge.control is None:
            out.append(f'<line x1="{x1:.1f}" y1="{y1:.1f}" x2="{x2:.1f}" y2="{y2:.1f}" '
                       f'{paint}</line>')
        else:
            cx, cy = edge.control
            out.append(f'<path d="M {x1:.1f} {y1:.1f} Q {cx:.1f} {cy:.1f} {x2:.1f} {y2:.1f}" '
                       f'fill="none" {paint}</path>')
    for k, edge in enumerate(diagram.edges if diagram.labelled else []):
        x, y = places[k]
        out.append(f'<text x="{x:.1f}" y="{y:.1f}" text-anchor="middle" fill="#333" '
                   f'stroke="white" stroke-width="3" paint-order="stroke">'
                   f'{escape(edge.weight)}</text>')
    for unit in diagram.units.values():
        fill = {"input": "#e8f0fe", "unit": "#ffffff", "bias": "#fff4d6"}[unit.kind]
        out.append(f'<circle cx="{unit.x:.1f}" cy="{unit.y:.1f}" r="{RADIUS}" fill="{fill}" '
                   f'stroke="#222"/>')
        out.append(f'<text x="{unit.x:.1f}" y="{unit.y + 4:.1f}" text-anchor="middle" '
                   f'font-size="12">{escape(_label(unit.name))}</text>')
    for k, line in enumerate(_footer(diagram, largest)):
        out.append(f'<text x="20" y="{diagram.height - 30 + 14 * k:.0f}" fill="#333">'
                   f'{escape(line)}</text>')
    out.append("</svg>")
    return "\n".join(out)


def _ends(diagram: Diagram, edge: Edge) -> tuple[tuple[float, float], tuple[float, float]]:
    """An edge from circle to circle, not centre to centre (its arrowhead shows)."""
    a, b = diagram.units[edge.source], diagram.units[edge.target]
    (ax, ay), (bx, by) = ((a.x, a.y), (b.x, b.y))
    first, last = edge.control or (bx, by), edge.control or (ax, ay)  # the tangents' ways

    def towards(x, y, tx, ty):
        length = max(((tx - x) ** 2 + (ty - y) ** 2) ** 0.5, 1)
        return x + (tx - x) / length * RADIUS, y + (ty - y) / length * RADIUS

    return towards(ax, ay, *first), towards(bx, by, *last)


def _cubic(diagram: Diagram, edge: Edge) -> tuple[tuple[float, float], tuple[float, float]]:
    a, b = diagram.units[edge.source], diagram.units[edge.target]
    cx, cy = edge.control
    return ((a.x + 2 / 3 * (cx - a.x), a.y + 2 / 3 * (cy - a.y)),
            (b.x + 2 / 3 * (cx - b.x), b.y + 2 / 3 * (cy - b.y)))


def _footer(diagram: Diagram, largest: float) -> list[str]:
    """The notes, and with --values the colours' legend."""
    notes = ", ".join(diagram.notes) + ("" if diagram.labelled else
                                        "; weight names left off (too many edges)")
    if not largest:
        return [notes]
    return [notes, f"red: dE/dw > 0, blue: dE/dw < 0, deeper: larger |dE/dw| "
                   f"(the largest {largest:.4g})"]


def tikz(diagram: Diagram) -> str:
    """A tikzpicture (needs \\usepackage{tikz}); coordinates in centimetres."""
    scale = max(0.016, min(0.025, 12 / max(diagram.width, 1)))  # cm a pixel: 12 cm wide
    # (an article's text) where the units stay apart
    largest = _largest(diagram)
    lines = [r"\begin{tikzpicture}[unit/.style={circle,draw,minimum size=8mm,inner sep=0pt},"
             r"bias/.style={unit,fill=yellow!15},input/.style={unit,fill=blue!8}]"]
    ids = {name: f"n{k}" for k, name in enumerate(diagram.units)}
    for name, unit in diagram.units.items():
        lines.append(rf"\node[{unit.kind}] ({ids[name]}) at ({unit.x * scale:.2f},"
                     rf"{-unit.y * scale:.2f}) {{${latex_name(_label(name))}$}};")
    for edge in diagram.edges:
        style = ["->"]
        if edge.highlighted:
            style.append("very thick, red")
        if edge.tied:
            style.append("dashed")
        if edge.gradient is not None and largest > 0:
            share = int(100 * min(1.0, abs(edge.gradient) / largest))
            style.append(f"{'red' if edge.gradient > 0 else 'blue'}!{max(share, 10)}")
        if edge.control is None:
            lines.append(rf"\draw[{', '.join(style)}] ({ids[edge.source]}) -- "
                         rf"({ids[edge.target]});")
        else:  # the quadratic arc as TikZ's cubic: controls 2/3 of the way to its point
            (c1x, c1y), (c2x, c2y) = _cubic(diagram, edge)
            lines.append(rf"\draw[{', '.join(style)}] ({ids[edge.source]}) .. controls "
                         rf"({c1x * scale:.2f},{-c1y * scale:.2f}) and "
                         rf"({c2x * scale:.2f},{-c2y * scale:.2f}) .. ({ids[edge.target]});")
    for edge, (x, y) in zip(diagram.edges, label_places(diagram) if diagram.labelled else []):
        lines.append(rf"\node[anchor=base, font=\scriptsize, fill=white, inner sep=0.5pt] "
                     rf"at ({x * scale:.2f},{-y * scale:.2f}) {{${latex_name(edge.weight)}$}};")
    for k, line in enumerate(_footer(diagram, largest)):
        lines.append(rf"\node[anchor=west, font=\scriptsize] at (0.5,"
                     rf"{-(diagram.height - 30 + 14 * k) * scale:.2f}) {{{typeset.text(line)}}};")
    lines.append(r"\end{tikzpicture}")
    return "\n".join(lines)


def png(diagram: Diagram, path: str) -> None:
    """A PNG, or a PDF where the path ends in .pdf (matplotlib writes both)."""
    try:
        import matplotlib
        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
        from matplotlib.collections import LineCollection
    except ImportError:
        raise DeriveError("PNG and PDF output need matplotlib: pip install "
                          "'derive-backprop[draw]' (SVG and TikZ need nothing more)") from None
    largest = _largest(diagram)
    figure, axes = plt.subplots(figsize=(diagram.width / 100, diagram.height / 100), dpi=110)
    axes.set_xlim(0, diagram.width)
    axes.set_ylim(diagram.height, 0)
    axes.axis("off")
    axes.set_title(diagram.title, parse_math=False)  # user text, never mathtext
    segments, colors, widths, styles = [], [], [], []
    for edge in diagram.edges:
        color = _color(edge, largest)
        segments.append(_polyline(diagram, edge))
        colors.append(tuple(int(v) / 255 for v in color[4:-1].split(","))
                      if color.startswith("rgb") else color)
        widths.append(3 if edge.highlighted else 1 if diagram.labelled else 0.3)
        styles.append("--" if edge.tied else "-")
    axes.add_collection(LineCollection(segments, colors=colors, linewidths=widths,
                                       linestyles=styles, zorder=1))
    if diagram.labelled:  # arrowheads where the edges are few enough to read
        for line, (x1, y1), color in zip(segments, _before_ends(segments), colors):
            x2, y2 = line[-1]
            axes.annotate("", (x2, y2), (x1, y1), zorder=1, arrowprops={
                "arrowstyle": "-|>", "color": color, "mutation_scale": 10, "linewidth": 0,
                "shrinkA": 0, "shrinkB": 0})
    for edge, (x, y) in zip(diagram.edges, label_places(diagram) if diagram.labelled else []):
        axes.text(x, y, f"${latex_name(edge.weight)}$", fontsize=8, ha="center",
                  va="baseline", zorder=3,
                  bbox={"facecolor": "white", "edgecolor": "none", "pad": 0.3})
    for unit in diagram.units.values():
        fill = {"input": "#e8f0fe", "unit": "#ffffff", "bias": "#fff4d6"}[unit.kind]
        axes.add_patch(plt.Circle((unit.x, unit.y), RADIUS, facecolor=fill, edgecolor="#222",
                                  zorder=2))
        axes.text(unit.x, unit.y, f"${latex_name(_label(unit.name))}$", ha="center",
                  va="center", zorder=3, fontsize=10)
    for k, line in enumerate(_footer(diagram, largest)):
        axes.text(20, diagram.height - 30 + 14 * k, line, fontsize=8, parse_math=False)
    figure.savefig(path, bbox_inches="tight")
    plt.close(figure)


def _polyline(diagram: Diagram, edge: Edge) -> list[tuple[float, float]]:
    """An edge as points from circle to circle: its two ends, or its arc in 40 steps."""
    if edge.control is None:
        return list(_ends(diagram, edge))
    a, b = diagram.units[edge.source], diagram.units[edge.target]
    points = [_point(diagram, edge, k / 40) for k in range(41)]
    return [(x, y) for x, y in points if min((x - a.x) ** 2 + (y - a.y) ** 2,
                                              (x - b.x) ** 2 + (y - b.y) ** 2) > RADIUS ** 2]


def _before_ends(segments) -> list[tuple[float, float]]:
    """A point just before each line's end, along its last step: an arrowhead's stem,
    6 px long."""
    out = []
    for (x1, y1), (x2, y2) in (line[-2:] for line in segments):
        length = max(((x2 - x1) ** 2 + (y2 - y1) ** 2) ** 0.5, 1)
        out.append((x2 - (x2 - x1) / length * 6, y2 - (y2 - y1) / length * 6))
    return out
