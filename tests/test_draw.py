"""Pictures: well-formed SVG and TikZ naming every unit and weight, and exact highlights."""

import shutil
import subprocess
import xml.etree.ElementTree as ElementTree
from pathlib import Path

import pytest
from click.testing import CliRunner

from derive import api, draw
from derive.cli import main

SPECS = Path(__file__).parent.parent / "specs"
SVG = "{http://www.w3.org/2000/svg}"


@pytest.fixture(scope="module")
def mazur():
    return api.load(SPECS / "mazur.yaml")


def highlighted(diagram):
    return {edge.weight for edge in diagram.edges if edge.highlighted}


def test_svg_is_well_formed_and_names_every_unit_and_weight(mazur):
    root = ElementTree.fromstring(draw.svg(draw.layout(mazur)))
    texts = {t.text for t in root.iter(f"{SVG}text")}
    assert {"i1", "i2", "h1", "h2", "o1", "o2", "b1", "b2"} <= texts
    assert {f"w{k}" for k in range(1, 9)} <= texts
    assert len(list(root.iter(f"{SVG}line"))) == 8 + 4  # weights and bias edges


@pytest.mark.parametrize("name, expected", [
    ("w1", {"w1", "w5", "w7"}),  # h1 feeds o1 through w5 and o2 through w7
    ("w5", {"w5"}),
    ("b2", {"b2"}),
    ("b1", {"b1", "w5", "w6", "w7", "w8"}),  # a shared bias reaches both hidden units
])
def test_highlight_marks_exactly_the_chain_rule_edges(mazur, name, expected):
    assert highlighted(draw.layout(mazur, name)) == expected


def test_a_softmax_layer_passes_the_highlight_to_all_its_units():
    network = api.load(SPECS / "hidden_softmax.yaml")
    assert highlighted(draw.layout(network, "w1")) == {"w1", "w5", "w6", "w7", "w8"}


def test_tied_weights_are_drawn_alike():
    diagram = draw.layout(api.load(SPECS / "tied.yaml"))
    tied = {edge.weight for edge in diagram.edges if edge.tied}
    assert tied == {"u", "v"}
    assert draw.svg(diagram).count('stroke-dasharray="5,3"') == 5  # u twice, v three times


def test_values_colour_edges_by_their_gradient(mazur):
    diagram = draw.layout(mazur, values=True)
    w5 = next(edge for edge in diagram.edges if edge.weight == "w5")
    assert w5.gradient == pytest.approx(0.082167041)
    with pytest.raises(Exception, match="values do not fix"):
        draw.layout(api.load(SPECS / "hidden_sigmoid.yaml"), values=True)


def test_tikz_is_well_formed(mazur):
    text = draw.tikz(draw.layout(mazur, "w1"))
    assert text.startswith(r"\begin{tikzpicture}") and text.endswith(r"\end{tikzpicture}")
    units, labels, footer = 8, 12, 1  # the labels are nodes placed apart (label_places)
    assert text.count(r"\node") == units + labels + footer and text.count(r"\draw") == 12
    assert text.count("{") == text.count("}")
    assert r"\draw[->, very thick, red] (n0) -- (n3);" in text
    assert r"inner sep=0.5pt] at (2.17,-1.24) {$w_{1}$};" in text


SHIPPED = sorted((Path(__file__).parent.parent / "specs").glob("*.yaml"))


@pytest.mark.parametrize("path", SHIPPED, ids=[p.stem for p in SHIPPED])
def test_no_label_meets_another_label_or_a_unit(path):
    """The boxes of the weight labels (in every renderer: they share label_places) are
    apart from each other and from every unit's circle."""
    diagram = draw.layout(api.load(path))
    if not diagram.labelled:
        return
    boxes = [draw.label_box(e.weight, *place)
             for e, place in zip(diagram.edges, draw.label_places(diagram))]
    units = [(u.x - draw.RADIUS, u.y - draw.RADIUS, u.x + draw.RADIUS, u.y + draw.RADIUS)
             for u in diagram.units.values()]
    for k, box in enumerate(boxes):
        assert not any(draw._overlap(box, other) for other in boxes[:k] + units), \
            diagram.edges[k].weight


def test_svg_scales_and_points_its_edges(mazur):
    root = ElementTree.fromstring(draw.svg(draw.layout(mazur)))
    assert root.get("viewBox") == f"0 0 {root.get('width')} {root.get('height')}"
    lines = root.findall("{http://www.w3.org/2000/svg}line")
    assert lines and all(line.get("marker-end") == "url(#arrow)" for line in lines)
    assert root.find(".//{http://www.w3.org/2000/svg}marker").get("id") == "arrow"


def test_values_come_with_a_legend_and_a_pdf_is_written(tmp_path, mazur):
    pytest.importorskip("matplotlib")
    text = draw.svg(draw.layout(mazur, values=True))
    assert "red: dE/dw &gt; 0, blue: dE/dw &lt; 0, deeper: larger |dE/dw|" in text
    result = CliRunner().invoke(main, ["draw", str(Path(__file__).parent.parent / "specs" /
                                                   "mazur.yaml"), "-o",
                                       str(tmp_path / "m.pdf"), "--values"])
    assert result.exit_code == 0, result.output
    assert (tmp_path / "m.pdf").read_bytes().startswith(b"%PDF")


def tikz_available():
    if shutil.which("pdflatex") is None or shutil.which("kpsewhich") is None:
        return False
    found = subprocess.run(["kpsewhich", "tikz.sty"], capture_output=True, text=True)
    return bool(found.stdout.strip())


@pytest.mark.skipif(not tikz_available(), reason="pdflatex with TikZ is not installed")
def test_tikz_compiles(mazur, tmp_path):
    (tmp_path / "d.tex").write_text("\\documentclass{article}\\usepackage{tikz}\n"
                                    "\\begin{document}\n" + draw.tikz(draw.layout(mazur, "w1"))
                                    + "\n\\end{document}\n")
    done = subprocess.run(["pdflatex", "-interaction=nonstopmode", "-no-shell-escape", "d.tex"],
                          cwd=tmp_path, capture_output=True, timeout=120)
    assert done.returncode == 0, done.stdout[-2000:]


def test_a_large_network_leaves_weight_names_off():
    network = api.load({"inputs": 64, "layers": [{"name": "h", "units": 32},
                                                 {"name": "o", "units": 10}]})
    diagram = draw.layout(network, "w_h1_i1")
    root = ElementTree.fromstring(draw.svg(diagram))
    assert len(list(root.iter(f"{SVG}line"))) == 64 * 32 + 32 * 10 + 42
    texts = [t.text for t in root.iter(f"{SVG}text")]
    assert "w_h1_i1" not in texts and "i64" in texts and "o10" in texts
    assert any("weight names left off" in (t or "") for t in texts)
    assert len(highlighted(diagram)) == 1 + 10


def test_the_draw_command(tmp_path):
    runner = CliRunner()
    out = tmp_path / "m.svg"
    assert runner.invoke(main, ["draw", str(SPECS / "mazur.yaml"), "-o", str(out)]).exit_code == 0
    ElementTree.parse(out)
    tikz = runner.invoke(main, ["draw", str(SPECS / "mazur.yaml"), "--format", "tikz"])
    assert tikz.output.startswith(r"\begin{tikzpicture}")
    bad = runner.invoke(main, ["draw", str(SPECS / "mazur.yaml"), "--highlight", "net_h1"])
    assert bad.exit_code == 2 and "is not a weight or bias" in bad.output
    no_file = runner.invoke(main, ["draw", str(SPECS / "mazur.yaml"), "--format", "png"])
    assert no_file.exit_code == 2 and "PNG needs -o FILE" in no_file.output


def test_png_with_matplotlib(tmp_path):
    pytest.importorskip("matplotlib")
    out = tmp_path / "m.png"
    result = CliRunner().invoke(main, ["draw", str(SPECS / "mazur.yaml"), "--highlight", "w1",
                                       "-o", str(out)])
    assert result.exit_code == 0
    assert out.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_wiring_is_drawn_as_it_is():
    """Absent edges are not drawn, skip edges are, a kernel's tied names are dashed alike,
    and the notes name the convolution and the examples."""
    spec = {"inputs": ["x1", "x2", "x3"], "loss": "sse", "examples": 2, "reduction": "mean",
            "layers": [{"name": "c", "type": "conv1d", "kernel": ["k1", "k2"]},
                       {"name": "o", "units": 1, "from": ["c", "x1"], "bias": "none"}]}
    diagram = draw.layout(api.load(spec))
    edges = {(e.source, e.target): e for e in diagram.edges}
    assert ("x3", "c1") not in edges and ("x1", "c2") not in edges  # no connection
    assert ("x1", "o1") in edges  # the skip
    assert edges[("x1", "c1")].tied and edges[("x2", "c2")].tied
    assert edges[("x1", "c1")].weight == edges[("x2", "c2")].weight == "k1"
    assert "2 examples (mean)" in diagram.notes
    assert "c: conv1d, kernel 2, stride 1, padding 0" in diagram.notes


def test_a_skip_edge_arcs_above_the_units_it_passes():
    """Drawn straight, x1 -> r1 of the residual block ran through f1 and g1."""
    diagram = draw.layout(api.load(Path(__file__).parent.parent / "specs" / "residual.yaml"))
    skips = [e for e in diagram.edges if e.control is not None]
    assert {(e.source, e.target) for e in skips} == {("x1", "r1"), ("x2", "r2")}
    for edge in skips:
        a, b = diagram.units[edge.source], diagram.units[edge.target]
        between = [u for u in diagram.units.values() if a.x < u.x < b.x]
        for k in range(1, 40):
            x, y = draw._point(diagram, edge, k / 40)
            assert all((x - u.x) ** 2 + (y - u.y) ** 2 > draw.RADIUS ** 2 for u in between)
        assert min(draw._point(diagram, edge, k / 40)[1] for k in range(41)) > 0  # on it
    svg = draw.svg(diagram)
    assert svg.count(" Q ") == 2 and ElementTree.fromstring(svg) is not None
    assert draw.tikz(diagram).count(".. controls") == 2
