"""Made benchmarks/results/amd-epyc-2c/sparse_probe/ (probe.md, s0_d0.2_e*.json).

Probe of STU-GAN's prune-and-regrow in G (preset, dynamic_g): per update and masked G layer,
- redrop: share of the weights grown at the previous update that this update drops again,
- grown_share_of_drops: share of this update's drops that were grown at the previous update,
- mag_ratio: mean |w| of last update's grown (still active) weights / mean |w| of the other active weights,
  just before this update; also the same ratio for the weights this update drops vs keeps.
One-off script (it wraps a private callback method); usage:
python benchmarks/probes/sparse_regrowth.py SEED DENSITY UPDATE_EVERY OUT.json"""
import json, os, sys
import numpy as np
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), *[".."] * 2))  # repo root
from benchmarks import reproduction as R
from tfgan_eff import train_lib
from tfgan_eff.sparse import callbacks as C

seed, density, every, out_path = int(sys.argv[1]), float(sys.argv[2]), int(sys.argv[3]), sys.argv[4]
records, state = [], {"grown": None}
orig = C.SparsityCallback.on_train_batch_begin

def snap(masks):
    return ([np.asarray(m.numpy()) > 0.5 for m in masks.masks], [np.abs(k.numpy()) for k in masks.kernels])

def patched(self, batch, logs=None):
    step = self.start_step + batch
    if step == 0 or step % self.every or self.update_fn is None:
        return orig(self, batch, logs)
    masks = self.trainer.g_masks
    before, w = snap(masks)
    orig(self, batch, logs)
    after, _ = snap(masks)
    prev = state["grown"]
    rows = []
    for i, (b, a, mag) in enumerate(zip(before, after, w)):
        dropped, grown = b & ~a, a & ~b
        row = dict(layer=masks.kernels[i].path if hasattr(masks.kernels[i], "path") else i, nnz=int(b.sum()),
                   size=int(b.size), k=int(dropped.sum()),
                   mean_active=float(mag[b].mean()), mean_dropped=float(mag[dropped].mean()) if dropped.any() else None)
        if prev is not None:
            g = prev[i] & b  # grown last time and still active before this update
            row.update(prev_grown=int(prev[i].sum()),
                       redrop=float((dropped & prev[i]).sum() / max(prev[i].sum(), 1)),
                       grown_share_of_drops=float((dropped & prev[i]).sum() / max(dropped.sum(), 1)),
                       mag_ratio=float(mag[g].mean() / mag[b & ~prev[i]].mean()) if g.any() else None,
                       regrown_again=float((grown & ~prev[i]).sum()))
        rows.append(row)
    state["grown"] = [a & ~b for b, a in zip(before, after)]
    records.append(dict(step=step, layers=rows))
    json.dump(records, open(out_path, "w"), indent=1)

C.SparsityCallback.on_train_batch_begin = patched
cfg = R.method_config("sparse", seed, R.Options())
cfg.sparse.update(g_density=density, comparisons="", update_every=every)
summary = train_lib.run(cfg, os.path.join(os.path.dirname(out_path), f"run_s{seed}_d{density}_e{every}"))
print("FID", [(r["mode"], r["FID"]) for r in summary["table"]])
