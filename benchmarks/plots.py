"""PNG plots of the reproduction (matplotlib, optional extra `bench`): mean over seeds with a +-1 std band."""

import os
import textwrap

import numpy as np


def _pyplot():
    import matplotlib

    matplotlib.use("Agg")  # files only, no display
    import matplotlib.pyplot as plt
    return plt


def _by_key(series_list):
    """[[(x, y), ...] per seed] -> (sorted xs, means, stds) over the seeds that have each x."""
    table = {}
    for series in series_list:
        for x, y in series:
            if y is not None:
                table.setdefault(x, []).append(y)
    xs = sorted(table)
    return (np.array(xs), np.array([np.mean(table[x]) for x in xs]), np.array([np.std(table[x]) for x in xs]))


def _band(ax, series_list, label, **kw):
    xs, mean, std = _by_key(series_list)
    if len(xs):
        kw.setdefault("marker", "o")
        line, = ax.plot(xs, mean, label=label, **kw)
        ax.fill_between(xs, mean - std, mean + std, alpha=0.2, color=line.get_color())


def _save(fig, path):
    """Writes the figure as PNG and closes it (pyplot keeps every open figure alive)."""
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    _pyplot().close(fig)
    return path


def dgl_plot(seeds, path):
    """FID vs G steps of the teacher, the plain student and the DGL student; the stage switch as a line."""
    plt = _pyplot()
    fig, ax = plt.subplots(figsize=(6.4, 4.2))
    styles = (("teacher", "teacher (full width)", "-", "o"), ("plain", "plain student", "--", "s"),
              ("dgl", "DGL student", "-", "^"))
    for key, label, linestyle, marker in styles:  # distinct styles: curves can coincide early on
        _band(ax, [s["curves"].get(key, []) for s in seeds], label, linestyle=linestyle, marker=marker)
    switch = next((s.get("switch_step") for s in seeds if s.get("switch_step")), None)
    if switch:
        ax.axvline(switch, color="grey", linestyle=":", label="stage 2 starts")
    ax.set(xlabel="generator steps", ylabel="FID (offline features, lower is better)",
           title=f"DGL-GAN on digits ({len(seeds)} seed(s))")
    ax.legend()
    return _save(fig, path)


def sparse_plot(seeds, path):
    """Final FID vs G density for dynamic and static masks, with the dense run at density 1."""
    plt = _pyplot()
    fig, ax = plt.subplots(figsize=(6.4, 4.2))
    for mode, label in (("dynamic", "dynamic G (STU-GAN)"), ("static", "static masks"),
                        ("pruned", "dense, pruned once, retrained"), ("reset", "dynamic G, Adam moments reset (RigL)")):
        _band(ax, [[(p["target_density"], p["fid"]) for p in s["points"] if p["mode"] == mode] for s in seeds], label)
    dense = [p["fid"] for s in seeds for p in s["points"] if p["mode"] == "dense" and p["fid"] is not None]
    if dense:
        ax.axhline(np.mean(dense), color="black", linestyle="--", label=f"dense (mean of {len(dense)})")
        ax.errorbar([1.0], [np.mean(dense)], yerr=[np.std(dense)], fmt="ks")
    ax.set(xlabel="generator density d_G (fraction of conv weights kept)", ylabel="FID (offline features)",
           title=f"STU-GAN on digits ({len(seeds)} seed(s))")
    ax.legend()
    return _save(fig, path)


def search_plot(seeds, path):
    """Duality gap and architecture entropy per search round; retrained FID of derived vs baselines."""
    plt = _pyplot()
    fig, (ax1, ax2, ax3) = plt.subplots(1, 3, figsize=(13.6, 3.8))
    _band(ax1, [list(enumerate(s["dg"], 1)) for s in seeds], "duality gap")
    ax1.axhline(0.0, color="grey", linewidth=0.8)
    _band(ax2, [list(enumerate(s["entropy"], 1)) for s in seeds], "mean edge entropy", color="tab:orange")
    ax1.set(xlabel="search round", ylabel="duality gap", title="alphaGAN: duality gap")
    ax2.set(xlabel="search round", ylabel="entropy of softmax(alpha) (nats)", title="alphaGAN: architecture entropy")
    ax2.ticklabel_format(axis="y", useOffset=False)  # entropy moves in small steps near log(#candidates)
    groups = (("derived", [s.get("retrain_fid") for s in seeds]),
              ("random", [f for s in seeds for f in s.get("random_fids", [])]),
              ("SNGAN G", [s.get("sngan_fid") for s in seeds]))
    for i, (_, fids) in enumerate(groups):
        fids = [f for f in fids if f is not None]
        if fids:
            ax3.bar(i, np.mean(fids), yerr=np.std(fids), color=f"C{i}", alpha=0.7, capsize=4)
            ax3.plot([i] * len(fids), fids, "ko", markersize=3)
    ax3.set_xticks(range(len(groups)), [g[0] for g in groups])
    ax3.set(ylabel="FID after retraining (offline features)", title="retrained with the same recipe")
    return _save(fig, path)


def claim_curves_plot(claims, path):
    """One panel per claim that compares two runs along their FID curves: each run's FID vs G steps (mean over
    seeds, +-1 std band), so that the gap's evolution is visible next to the verdict."""
    plt = _pyplot()
    rows = [c for c in claims if c.get("curves")]
    cols = min(3, len(rows))
    lines = (len(rows) + cols - 1) // cols
    fig, axes = plt.subplots(lines, cols, figsize=(5.2 * cols, 3.8 * lines), squeeze=False)
    for ax, row in zip(axes.flat, rows):
        for (label, per_seed), style in zip(row["curves"].items(), ("-", "--")):
            _band(ax, [curve for curve in per_seed.values() if curve], label, linestyle=style)
        holds = f"{row['holds_in']}/{row['seeds']}" if row["seeds"] else "-"
        ax.set_title(textwrap.fill(f"{row['claim']} (holds in {holds})", 70), fontsize=8)
        ax.set(xlabel="generator steps", ylabel="FID (offline features)")
        if ax.get_legend_handles_labels()[0]:  # a claim whose runs are not measured yet has no curve
            ax.legend(fontsize=7)
    for ax in list(axes.flat)[len(rows):]:
        ax.set_visible(False)
    return _save(fig, path)


def plot_claim_curves(part, claims, out_dir):
    """Writes <part>_claim_curves.png into `out_dir`; returns its path (None when no claim has curves)."""
    if not any(c.get("curves") for c in claims):
        return None
    return claim_curves_plot(claims, os.path.join(out_dir, f"{part}_claim_curves.png"))


PLOTS = {"dgl": ("dgl_fid_vs_steps.png", dgl_plot), "sparse": ("sparse_fid_vs_density.png", sparse_plot),
         "search": ("search_dg_entropy.png", search_plot)}


def plot_part(part, seeds, out_dir):
    """Writes the part's PNG into `out_dir`; returns its path (None when there is nothing to draw)."""
    if not seeds:
        return None
    name, fn = PLOTS[part]
    return fn(seeds, os.path.join(out_dir, name))
