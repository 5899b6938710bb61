"""Made benchmarks/results/intel-r-xeon-r-processor-2c/search_cost/alphas.{json,md}.

What alphaGAN's search selects, round by round: the mean softmax(alpha) of each candidate op over the normal
cells' edges, and the ops of the normal cells' derived genotype (argmax per edge) at chosen rounds, read from
finished searches (<search work dir>/search/history.json and search/genotypes/round_NNN.json).
One-off script; usage:
python benchmarks/probes/search_alphas.py OUT_STEM LABEL=SEARCH_WORKDIR [LABEL=SEARCH_WORKDIR ...]
"""
import collections
import json
import os
import sys

import numpy as np

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), *[".."] * 2))  # repo root
from benchmarks.report import table  # noqa: E402
from tfgan_eff.search.candidate_ops import NORMAL_OPS  # noqa: E402

ROUNDS = (1, 5, 10, 15, 20, 25, 30)
NORMAL_CELLS = ("normal_1", "normal_2", "normal_3")


def search_record(workdir):
    """{round: {mean softmax per op, derived normal ops}} of one finished search."""
    with open(os.path.join(workdir, "search", "history.json"), encoding="utf-8") as f:
        history = json.load(f)
    out = {}
    for record in history:
        r = record["round"] + 1
        if r not in ROUNDS:
            continue
        weights = np.array([edge for cell in NORMAL_CELLS for edge in record["softmax"][cell]])
        with open(os.path.join(workdir, "search", "genotypes", f"round_{r - 1:03d}.json"), encoding="utf-8") as f:
            normal = json.load(f)["normal"]
        out[r] = dict(mean_softmax=dict(zip(NORMAL_OPS, weights.mean(0).round(4).tolist())),
                      derived=dict(collections.Counter(op for cell in normal for op in cell)))
    return out


def main(out_stem, *searches):
    records = {label: search_record(path) for label, path in (s.split("=", 1) for s in searches)}
    lines = ["# What the search selects, round by round", "",
             "Mean softmax(alpha) of each candidate op over the 9 normal-cell edges (uniform = 0.167), and the "
             "ops of the derived genotype's normal edges (argmax per edge) after each round.", ""]
    for label, by_round in records.items():
        lines += [f"## {label}", "", *table(["round", *NORMAL_OPS, "derived normal edges"], [
            [r, *(f"{rec['mean_softmax'][op]:.3f}" for op in NORMAL_OPS),
             ", ".join(f"{op} {n}" for op, n in sorted(rec["derived"].items()))] for r, rec in by_round.items()]), ""]
    with open(out_stem + ".json", "w", encoding="utf-8") as f:
        json.dump(records, f, indent=1)
    with open(out_stem + ".md", "w", encoding="utf-8") as f:
        f.write("\n".join(lines))


if __name__ == "__main__":
    main(*sys.argv[1:])
