"""Which units feed a layer, and through which weights (SPEC §9).

A dense layer takes the layer below, every unit through its own weight. `from:` takes any
earlier units, inputs or whole layers instead (skip connections, a recurrent network
unrolled in time with tied weights); a weight entry `0` is no connection; a convolution
is a sparse layer whose weights are its kernel's names, placed as PyTorch's
cross-correlation places them. All of it comes down to one thing the network builds
from: the layer's sources, in column order, and a weight name (or None) per edge.
"""

from __future__ import annotations

from dataclasses import dataclass

from .errors import SpecError, echo
from .safeyaml import kind_of, line_of

TYPES = ("dense", "conv1d", "conv2d")
CONV_KEYS = ("kernel", "stride", "padding", "input_shape")


@dataclass(frozen=True)
class Convolution:
    """What `derive draw` and `show` say of a conv layer; the weights say the rest."""

    kind: str  # conv1d or conv2d
    kernel: tuple  # names, or rows of names
    stride: int
    padding: int
    input_shape: tuple[int, ...]
    output_shape: tuple[int, ...]


def sources(reader, value, line: int, where: str, inputs: list[str], earlier) -> list[str]:
    """`from: [x2, h1, g]`: inputs, units of earlier layers, and earlier layers whole (all
    their units, in order), as the columns of the layer's weights."""
    if not isinstance(value, list) or not value:
        raise reader.fail(line, f"{where}.from: expected a list of inputs, units or layers, "
                          f"got {'an empty list' if value == [] else kind_of(value)}")
    units = {layer.unit(j): layer for layer in earlier for j in range(1, layer.units + 1)}
    found: list[str] = []
    for k, item in enumerate(value):
        here = line_of(value, k)
        if not isinstance(item, str):
            raise reader.fail(here, f"{where}.from[{k + 1}]: expected a name, got "
                              f"{kind_of(item)}")
        layer = next((lay for lay in earlier if lay.name == item), None)
        if layer is not None:
            found += [layer.unit(j) for j in range(1, layer.units + 1)]
        elif item in inputs or item in units:
            found.append(item)
        else:
            raise reader.fail(here, f"{where}.from[{k + 1}]: '{echo(item)}' is no input, "
                              f"unit or layer below this one")
    repeated = next((name for k, name in enumerate(found) if name in found[:k]), None)
    if repeated is not None:
        raise reader.fail(line, f"{where}.from: '{repeated}' is taken twice")
    return found


def convolution(reader, node: dict, where: str, fed: int) \
        -> tuple[list[list[str | None]], Convolution]:
    """The weights of a conv1d or conv2d layer fed by `fed` units: row j holds, for each
    source, the kernel's name that joins them, or None."""
    kind = node["type"]
    at = lambda key: line_of(node, key) or line_of(node, "type")  # noqa: E731
    if "kernel" not in node:
        raise reader.fail(at("type"), f"{where}: a {kind} layer needs kernel:")
    stride = _positive(reader, node.get("stride", 1), at("stride"), f"{where}.stride")
    padding = _count(reader, node.get("padding", 0), at("padding"), f"{where}.padding")
    if kind == "conv1d":
        if "input_shape" in node:  # read nowhere: refused rather than ignored
            raise reader.fail(at("input_shape"), f"{where}.input_shape: a conv1d layer takes "
                              f"its units' number from the inputs (input_shape is conv2d's)")
        kernel = _names(reader, node["kernel"], at("kernel"), f"{where}.kernel")
        size = len(kernel)
        out = (fed + 2 * padding - size) // stride + 1
        _fits(reader, out, at("kernel"), where, f"{size} weights over {fed} inputs")
        rows = [[None] * fed for _ in range(out)]
        for j in range(out):
            for t, weight in enumerate(kernel):
                i = j * stride - padding + t
                if 0 <= i < fed:
                    rows[j][i] = weight
        return rows, Convolution(kind, tuple(kernel), stride, padding, (fed,), (out,))
    if "input_shape" not in node:
        raise reader.fail(at("type"), f"{where}: a conv2d layer needs input_shape: [H, W]")
    shape = node["input_shape"]
    if not (isinstance(shape, list) and len(shape) == 2 and
            all(isinstance(x, int) and not isinstance(x, bool) and x >= 1 for x in shape)):
        raise reader.fail(at("input_shape"), f"{where}.input_shape: expected [H, W], two "
                          f"whole numbers")
    height, width = shape
    if height * width != fed:
        raise reader.fail(at("input_shape"), f"{where}.input_shape: {height}×{width} is "
                          f"{height * width} inputs, but {fed} feed this layer")
    value = node["kernel"]
    if not isinstance(value, list) or not value or not all(isinstance(r, list) for r in value):
        raise reader.fail(at("kernel"), f"{where}.kernel: expected rows of names")
    kernel = [_names(reader, row, line_of(value, k), f"{where}.kernel[{k + 1}]")
              for k, row in enumerate(value)]
    if len({len(row) for row in kernel}) != 1:
        raise reader.fail(at("kernel"), f"{where}.kernel: the rows differ in length")
    kh, kw = len(kernel), len(kernel[0])
    oh = (height + 2 * padding - kh) // stride + 1
    ow = (width + 2 * padding - kw) // stride + 1
    _fits(reader, min(oh, ow), at("kernel"), where, f"a {kh}×{kw} kernel over "
          f"{height}×{width} inputs")
    rows = []
    for r in range(oh):
        for c in range(ow):
            row: list[str | None] = [None] * fed
            for dy in range(kh):
                for dx in range(kw):
                    y, x = r * stride - padding + dy, c * stride - padding + dx
                    if 0 <= y < height and 0 <= x < width:
                        row[y * width + x] = kernel[dy][dx]
            rows.append(row)
    return rows, Convolution(kind, tuple(tuple(r) for r in kernel), stride, padding,
                             (height, width), (oh, ow))


def _names(reader, value, line: int, where: str) -> list[str]:
    if not isinstance(value, list) or not value:
        raise reader.fail(line, f"{where}: expected a list of weight names")
    return [reader.name(w, line_of(value, k), f"{where}[{k + 1}]") for k, w in enumerate(value)]


def _positive(reader, value, line: int, where: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= 64:
        raise reader.fail(line, f"{where}: expected a whole number from 1 to 64")
    return value


def _count(reader, value, line: int, where: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= 64:
        raise reader.fail(line, f"{where}: expected a whole number from 0 to 64")
    return value


def _fits(reader, out: int, line: int, where: str, what: str) -> None:
    if out < 1:
        raise SpecError(f"{where}.kernel: {what} leave no output unit", line=line)
