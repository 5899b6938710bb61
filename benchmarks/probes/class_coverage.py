"""Made benchmarks/results/intel-r-xeon-r-processor-2c/search_flatten/class_coverage.{json,md}.

Which digits a generator draws: 2,000 samples of each run's EMA generator at its last checkpoint (the evaluation's
z seed), each labelled by the offline digits classifier whose features the FID uses; per run the share of each
class, the smallest share and the entropy of the shares in bits (log2(10) = 3.32 for ten equal classes), next to the
same numbers for the training digits.
One-off script; usage:
python benchmarks/probes/class_coverage.py OUT_STEM LABEL=RUN_DIR [LABEL=RUN_DIR ...]
"""
import json
import os
import sys

import numpy as np

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), *[".."] * 2))  # repo root
from benchmarks.report import table  # noqa: E402
from tfgan_eff.files import write_json, write_text  # noqa: E402
from tfgan_eff.inference import restore_run  # noqa: E402
from tfgan_eff.training import evaluator  # noqa: E402
from tfgan_eff.training.loop import load_data  # noqa: E402

SAMPLES = 2000


def shares(extractor, images):
    """Share of each of the classifier's classes among `images` ([-1, 1] floats)."""
    _, logits = extractor(images)
    return np.bincount(np.argmax(logits, axis=1), minlength=logits.shape[1]) / len(images)


def row(label, share, extra=""):
    """One table row: label, step, smallest share, entropy in bits, the shares in percent."""
    nonzero = share[share > 0]
    return [label, extra, f"{share.min():.3f}", f"{-(nonzero * np.log2(nonzero)).sum():.3f}",
            " ".join(f"{100 * s:.0f}" for s in share)]


def main(out_stem, runs):
    """Writes OUT_STEM.json and OUT_STEM.md for the `runs` ([(label, run dir)])."""
    rows, record = [], {}
    for index, (label, run_dir) in enumerate(runs):
        restored = restore_run(run_dir)
        extractor = evaluator.build_extractor(restored.cfg)
        if index == 0:
            images, _ = load_data(restored.cfg)
            real = shares(extractor, np.asarray(images, np.float32) / 127.5 - 1.0)
            record["training digits"] = real.tolist()
            rows.append(row("training digits", real))
        generated = evaluator.sampler(restored.generator, seed=restored.cfg.seed + 12345)(SAMPLES)
        share = shares(extractor, generated)
        record[label] = dict(step=restored.step, shares=share.tolist())
        rows.append(row(label, share, str(restored.step)))
    write_json(out_stem + ".json", record)
    write_text(out_stem + ".md", "\n".join(
        ["# Classes drawn by each generator", "", f"{SAMPLES} samples per generator, labelled by the offline digits "
         "classifier; shares in percent of classes 0-9.", "",
         *table(["run", "step", "smallest share", "entropy (bits)", "share of 0 ... 9 (%)"], rows)]) + "\n")
    print(json.dumps(record, indent=1))


if __name__ == "__main__":
    main(sys.argv[1], [tuple(arg.split("=", 1)) for arg in sys.argv[2:]])
