"""PNG plots of the reproduction (matplotlib, optional extra `bench`): mean over seeds with a +-1 std band. Every
figure is a grid of panels (`_figure`), each the keyword arguments of `_panel` or a function drawing on its axes."""

import os
import textwrap

import numpy as np


def _by_key(series_list):
    """[[(x, y), ...] per seed] -> (sorted xs, means, stds) over the seeds that have each x."""
    table = {}
    for series in series_list:
        for x, y in series:
            if y is not None:
                table.setdefault(x, []).append(y)
    xs = sorted(table)
    return (np.array(xs), np.array([np.mean(table[x]) for x in xs]), np.array([np.std(table[x]) for x in xs]))


def _panel(ax, *, title, xlabel, ylabel, bands=(), refs=(), title_size="large"):
    """Mean +-1 std over seeds of each band (label, [[(x, y), ...] per seed], line style), reference lines
    ("v" or "h", value, label or None) and a legend when anything is labelled."""
    for label, series_list, style in bands:
        xs, mean, std = _by_key(series_list)
        if len(xs):
            line, = ax.plot(xs, mean, label=label, **{"marker": "o", **style})
            ax.fill_between(xs, mean - std, mean + std, alpha=0.2, color=line.get_color())
    for axis, value, label in refs:
        (ax.axvline if axis == "v" else ax.axhline)(value, color="grey", linestyle=":", label=label)
    ax.set_title(title, fontsize=title_size)
    ax.set(xlabel=xlabel, ylabel=ylabel)
    ax.ticklabel_format(axis="y", useOffset=False)  # values like an entropy near log(#candidates) move in small steps
    if ax.get_legend_handles_labels()[0]:  # a claim whose runs are not measured yet has no curve
        ax.legend(fontsize="small")


def _figure(path, panels, cols, size):
    """Draws `panels` in a grid of up to `cols` columns (`size`: one panel's inches) and writes it as PNG; returns
    `path` (None when there is no panel)."""
    if not panels:
        return None
    import matplotlib  # the optional extra: only when there is something to draw

    matplotlib.use("Agg")  # files only, no display
    import matplotlib.pyplot as plt
    cols = min(cols, len(panels))
    lines = (len(panels) + cols - 1) // cols
    fig, axes = plt.subplots(lines, cols, figsize=(size[0] * cols, size[1] * lines), squeeze=False)
    for ax, panel in zip(axes.flat, panels):
        if callable(panel):
            panel(ax)
        else:
            _panel(ax, **panel)
    for ax in list(axes.flat)[len(panels):]:
        ax.set_visible(False)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)  # pyplot keeps every open figure alive
    return path


def dgl_panels(seeds):
    """FID vs G steps of the teacher, the plain student and the DGL student; the stage switch as a line."""
    styles = (("teacher", "teacher (full width)", "-", "o"), ("plain", "plain student", "--", "s"),
              ("dgl", "DGL student", "-", "^"))  # distinct styles: curves can coincide early on
    switch = next((s.get("switch_step") for s in seeds if s.get("switch_step")), None)
    return [dict(title=f"DGL-GAN on digits ({len(seeds)} seed(s))", xlabel="generator steps",
                 ylabel="FID (offline features, lower is better)",
                 bands=[(label, [s["curves"].get(key, []) for s in seeds], dict(linestyle=ls, marker=marker))
                        for key, label, ls, marker in styles],
                 refs=[("v", switch, "stage 2 starts")] if switch else [])]


def sparse_panels(seeds):
    """Final FID vs G density for dynamic and static masks, the dense run's mean FID as a line."""
    modes = (("dynamic", "dynamic G (STU-GAN)"), ("static", "static masks"),
             ("pruned", "dense, pruned once, retrained"), ("reset", "dynamic G, Adam moments reset (RigL)"))
    dense = [p["fid"] for s in seeds for p in s["points"] if p["mode"] == "dense" and p["fid"] is not None]
    mean = np.mean(dense) if dense else None
    refs = [("h", mean, f"dense ({mean:.1f} +- {np.std(dense):.1f}, n={len(dense)})")] if dense else []
    return [dict(title=f"STU-GAN on digits ({len(seeds)} seed(s))",
                 xlabel="generator density d_G (fraction of conv weights kept)", ylabel="FID (offline features)",
                 bands=[(label, [[(p["target_density"], p["fid"]) for p in s["points"] if p["mode"] == mode]
                                 for s in seeds], {}) for mode, label in modes], refs=refs)]


def _retrained_fids(seeds):
    """Bars of the retrained FIDs (mean +- std, the seeds as dots) of the derived, random and SNGAN generators."""
    groups = (("derived", [s.get("retrain_fid") for s in seeds]),
              ("random", [f for s in seeds for f in s.get("random_fids", [])]),
              ("SNGAN G", [s.get("sngan_fid") for s in seeds]))

    def draw(ax):
        for i, (_, fids) in enumerate(groups):
            fids = [f for f in fids if f is not None]
            if fids:
                ax.bar(i, np.mean(fids), yerr=np.std(fids), color=f"C{i}", alpha=0.7, capsize=4)
                ax.plot([i] * len(fids), fids, "ko", markersize=3)
        ax.set_xticks(range(len(groups)), [g[0] for g in groups])
        ax.set(ylabel="FID after retraining (offline features)", title="retrained with the same recipe")
    return draw


def search_panels(seeds):
    """Duality gap and architecture entropy per search round; retrained FID of derived vs baselines."""
    return [dict(title="alphaGAN: duality gap", xlabel="search round", ylabel="duality gap", refs=[("h", 0.0, None)],
                 bands=[("duality gap", [list(enumerate(s["dg"], 1)) for s in seeds], {})]),
            dict(title="alphaGAN: architecture entropy", xlabel="search round",
                 ylabel="entropy of softmax(alpha) (nats)",
                 bands=[("mean edge entropy", [list(enumerate(s["entropy"], 1)) for s in seeds],
                         dict(color="tab:orange"))]),
            _retrained_fids(seeds)]


def claim_panel(claim):
    """A claim that compares two runs along their FID curves: each run's FID vs G steps, so that the gap's evolution
    is visible next to the verdict."""
    holds = f"{claim['holds_in']}/{claim['seeds']}" if claim["seeds"] else "-"
    return dict(title=textwrap.fill(f"{claim['claim']} (holds in {holds})", 70), title_size=8,
                xlabel="generator steps", ylabel="FID (offline features)",
                bands=[(label, [curve for curve in per_seed.values() if curve], dict(linestyle=style))
                       for (label, per_seed), style in zip(claim["curves"].items(), ("-", "--"))])


# part -> (file name, panels of its seeds, columns, one panel's inches)
PLOTS = {"dgl": ("dgl_fid_vs_steps.png", dgl_panels, 1, (6.4, 4.2)),
         "sparse": ("sparse_fid_vs_density.png", sparse_panels, 1, (6.4, 4.2)),
         "search": ("search_dg_entropy.png", search_panels, 3, (4.5, 3.8))}


def plot_part(part, seeds, out_dir):
    """Writes the part's PNG into `out_dir`; returns its path (None when there is nothing to draw)."""
    name, panels, cols, size = PLOTS[part]
    return _figure(os.path.join(out_dir, name), panels(seeds) if seeds else [], cols, size)


def plot_claim_curves(part, claims, out_dir):
    """Writes <part>_claim_curves.png into `out_dir`, one panel per claim with curves; returns its path (None when
    no claim has curves)."""
    return _figure(os.path.join(out_dir, f"{part}_claim_curves.png"),
                   [claim_panel(c) for c in claims if c.get("curves")], cols=3, size=(5.2, 3.8))
