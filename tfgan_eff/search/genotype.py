"""Genotypes: one chosen op per searched edge; derived from a supernet by argmax, stored as JSON.

JSON format (ops in ARCH_TENSORS row order; normal rows are n1->n2, n2->n4, n3->n4; up rows are node1, node3):
  {"normal": [[3 ops], [3 ops], [3 ops]], "up": [[2 ops] x 3], "skip_2": [1 op], "skip_3": [x4 op, x2 op],
   "op_set": "paper" | "normalized", "padding": "zero" | "reflect"}
"op_set" is the candidate op set the genotype was searched with (what its plain convs are), "padding" how its convs
pad; files without them are "paper" / "zero" (they predate the fields).
The published alphaGAN genotypes ship as `PUBLISHED["alphagan_l"]` / `PUBLISHED["alphagan_s"]`; `resolve` accepts
either such a name or a JSON path, so retraining needs no code edit.
"""

import dataclasses
import json
import os

import numpy as np

from tfgan_eff.errors import UserError
from tfgan_eff.files import write_text
from tfgan_eff.search.candidate_ops import NORMAL_OPS, OP_SETS, PADDINGS, UP_OPS
from tfgan_eff.search.space import ARCH_TENSORS, NUM_CELLS

_FIELDS = ("normal", "up", "skip_2", "skip_3")
_OPTIONAL = {"op_set": "paper", "padding": "zero"}


class GenotypeError(UserError, ValueError):
    """A genotype (JSON or fields) that does not describe a network of the alphaGAN search space."""


def _check_ops(ops_, allowed, where):
    if not isinstance(ops_, (list, tuple)) or not all(isinstance(o, str) for o in ops_):
        raise GenotypeError(f"{where} must be a list of op names, got {ops_!r}")
    for op in ops_:
        if op not in allowed:
            raise GenotypeError(f"{where}: unknown op {op!r}; choose from {allowed}")
    return tuple(ops_)


def _check_cells(value, rows, allowed, field):
    if not isinstance(value, (list, tuple)) or len(value) != NUM_CELLS:
        raise GenotypeError(f"{field!r} must list {NUM_CELLS} cells, got {value!r}")
    out = []
    for c, cell in enumerate(value):
        ops_ = _check_ops(cell, allowed, f"{field}[{c}]")
        if len(ops_) != rows:
            raise GenotypeError(f"{field}[{c}] must have {rows} ops, got {len(ops_)}: {list(ops_)}")
        out.append(ops_)
    return tuple(out)


@dataclasses.dataclass(frozen=True)
class Genotype:
    """The op on each of the 18 edges: normal[cell] (3 ops), up[cell] (2 ops), skip_2 (1 op), skip_3 (2 ops), and
    the op set those names refer to and the padding of their convs."""
    normal: tuple
    up: tuple
    skip_2: tuple
    skip_3: tuple
    op_set: str = "paper"
    padding: str = "zero"

    def __post_init__(self):
        object.__setattr__(self, "normal", _check_cells(self.normal, 3, NORMAL_OPS, "normal"))
        object.__setattr__(self, "up", _check_cells(self.up, 2, UP_OPS, "up"))
        for field, rows in (("skip_2", 1), ("skip_3", 2)):
            ops_ = _check_ops(getattr(self, field), UP_OPS, field)
            if len(ops_) != rows:
                raise GenotypeError(f"{field!r} must have {rows} op(s), got {len(ops_)}: {list(ops_)}")
            object.__setattr__(self, field, ops_)
        if self.op_set not in OP_SETS:
            raise GenotypeError(f"op_set must be one of {OP_SETS}, got {self.op_set!r}")
        if self.padding not in PADDINGS:
            raise GenotypeError(f"padding must be one of {PADDINGS}, got {self.padding!r}")

    def ops(self, tensor):
        """The chosen op of every row (edge) of architecture tensor `tensor` (e.g. 'normal_2', 'skip_3')."""
        if tensor in ("skip_2", "skip_3"):
            return getattr(self, tensor)
        kind, cell = tensor.rsplit("_", 1)
        return getattr(self, kind)[int(cell) - 1]

    def to_dict(self):
        """Plain JSON-able dict (lists of op names)."""
        return {"normal": [list(c) for c in self.normal], "up": [list(c) for c in self.up],
                "skip_2": list(self.skip_2), "skip_3": list(self.skip_3), "op_set": self.op_set,
                "padding": self.padding}

    def to_json(self):
        """The genotype as a JSON string."""
        return json.dumps(self.to_dict(), indent=1)

    @classmethod
    def from_dict(cls, data):
        """Validates and builds a genotype from `to_dict()` output."""
        if not isinstance(data, dict):
            raise GenotypeError(f"a genotype must be a JSON object with keys {_FIELDS}, got {type(data).__name__}")
        missing = [k for k in _FIELDS if k not in data]
        extra = sorted(set(data) - set(_FIELDS) - set(_OPTIONAL))
        if missing or extra:
            raise GenotypeError(f"genotype keys must be {_FIELDS} (and optionally {tuple(_OPTIONAL)}); missing "
                                f"{missing}, unexpected {extra}")
        return cls(**{k: data[k] for k in _FIELDS}, **{k: data.get(k, v) for k, v in _OPTIONAL.items()})

    @classmethod
    def from_json(cls, text):
        """Parses and validates a JSON genotype."""
        try:
            data = json.loads(text)
        except json.JSONDecodeError as err:
            raise GenotypeError(f"genotype is not valid JSON: {err}") from err
        return cls.from_dict(data)


def from_rows(rows, op_set="paper", padding="zero"):
    """Genotype of op set `op_set` and conv padding `padding` from {tensor name: [op name per edge]} (the
    ARCH_TENSORS layout)."""
    return Genotype(normal=[rows[f"normal_{c}"] for c in (1, 2, 3)], up=[rows[f"up_{c}"] for c in (1, 2, 3)],
                    skip_2=rows["skip_2"], skip_3=rows["skip_3"], op_set=op_set, padding=padding)


def from_weights(weights, op_set="paper", padding="zero"):
    """Argmax per edge of {tensor name: array [edges, candidates]} (alphas or their softmax) -> Genotype."""
    rows = {}
    for name, (candidates, _) in ARCH_TENSORS.items():
        w = np.asarray(weights[name])
        rows[name] = [candidates[int(i)] for i in np.argmax(w, axis=-1)]
    return from_rows(rows, op_set, padding)


def derive(supernet):
    """The genotype of a SupernetGenerator: the highest-alpha candidate on every edge (no pruning), in the
    supernet's op set and padding."""
    return from_weights({name: np.asarray(v) for name, v in supernet.alphas.items()}, supernet.op_set,
                        supernet.padding)


def sample(rng, op_set="paper", padding="zero"):
    """A uniformly random genotype of the search space with op set `op_set` and padding `padding` (`rng`: numpy
    Generator), e.g. for random-search baselines."""
    return from_rows({name: [candidates[int(rng.integers(len(candidates)))] for _ in scales]
                      for name, (candidates, scales) in ARCH_TENSORS.items()}, op_set, padding)


def save(genotype, path):
    """Writes `genotype` as JSON to `path` atomically (creating parent directories)."""
    write_text(path, genotype.to_json() + "\n")


def load(path):
    """Reads and validates a JSON genotype file."""
    if not os.path.isfile(path):
        raise FileNotFoundError(f"genotype file {path!r} not found; pass a genotype JSON path or one of "
                                f"{sorted(PUBLISHED)}")
    with open(path, encoding="utf-8") as f:
        text = f.read()
    try:
        return Genotype.from_json(text)
    except GenotypeError as err:
        raise GenotypeError(f"{path}: {err}") from err


def resolve(ref):
    """A published genotype by name ('alphagan_l', 'alphagan_s') or a genotype JSON file path."""
    if isinstance(ref, Genotype):
        return ref
    if not ref:
        raise GenotypeError("no genotype given; pass a JSON path or one of " + str(sorted(PUBLISHED)))
    if ref.lower() in PUBLISHED:
        return PUBLISHED[ref.lower()]
    return load(ref)


# Published genotypes (Tian et al.; the official code's models/genotypes.py). Their parameter counts at 32 px
# (8.618M / 2.953M in the paper) check that a genotype is built right.
ALPHAGAN_L = Genotype(
    normal=[["conv_5x5", "conv_5x5", "sep_conv_5x5"], ["conv_5x5", "conv_1x1", "conv_3x3"],
            ["conv_1x1", "conv_5x5", "sep_conv_3x3"]],
    up=[["deconv", "bilinear"], ["deconv", "bilinear"], ["nearest", "bilinear"]],
    skip_2=["nearest"], skip_3=["bilinear", "nearest"])
ALPHAGAN_S = Genotype(
    normal=[["conv_1x1", "sep_conv_3x3", "conv_1x1"], ["sep_conv_5x5", "sep_conv_3x3", "sep_conv_3x3"],
            ["sep_conv_5x5", "sep_conv_3x3", "sep_conv_3x3"]],
    up=[["bilinear", "deconv"], ["deconv", "deconv"], ["deconv", "nearest"]],
    skip_2=["nearest"], skip_3=["deconv", "bilinear"])
PUBLISHED = {"alphagan_l": ALPHAGAN_L, "alphagan_s": ALPHAGAN_S}
