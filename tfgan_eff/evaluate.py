"""`python -m tfgan_eff.evaluate --workdir=DIR`: IS / FID / KID / precision-recall / density-coverage of a trained
generator, printed and written with the protocol to `<DIR>/eval.json`.

DIR is a work dir (EMA weights, evaluated under the run's own data/eval config), a checkpoint prefix, or an exported
SavedModel (then --dataset names the reference data, or --ref_stats a .npz from tools/compute_ref_stats.py).
eval.json records which step and checkpoint it scored (`generator`). The work dir that holds the output is locked
while it is written, so a live training of that work dir refuses the command.
"""

import json
import os

from absl import app, flags, logging

from tfgan_eff import cli
from tfgan_eff.config import validate

flags.adopt_module_key_flags(cli)  # --debug and --tf_logs in --help
_WORKDIR = flags.DEFINE_string("workdir", None, "Work dir, checkpoint prefix or SavedModel dir to evaluate.",
                               required=True)
_NUM_SAMPLES = flags.DEFINE_integer("num_samples", None, "Generated samples (default: the run's eval.num_samples).")
_EXTRACTOR = flags.DEFINE_enum("extractor", None, ["offline", "inception"],
                               "Feature extractor (default: the run's eval.extractor).")
_INCEPTION = flags.DEFINE_string("inception_weights", None,
                                 "Local InceptionV3 weights (.h5) for --extractor=inception.")
_REF_STATS = flags.DEFINE_string("ref_stats", None, "Reference statistics .npz (default: computed from the data).")
_DATASET = flags.DEFINE_string("dataset", None, "Reference data source for a SavedModel (digits, shapes, tfds:NAME, "
                               "folder:PATH); a work dir uses its own.")
_OUT = flags.DEFINE_string("out", None, "Where to write the results (default: <workdir>/eval.json, or next to a "
                           "SavedModel).")


def _check_reference_flags():
    """A SavedModel brings no data config: --dataset (a valid source) or --ref_stats must name the reference."""
    if not (_DATASET.value or _REF_STATS.value):
        raise validate.ConfigError("evaluating a SavedModel needs its reference data: pass --dataset=digits, shapes, "
                                   "tfds:NAME or folder:PATH, or --ref_stats=FILE.npz (made by "
                                   "tools/compute_ref_stats.py)")
    problems = validate.source_problems(_DATASET.value, key="--dataset") if _DATASET.value else []
    if problems:
        raise validate.ConfigError("; ".join(problems))


def _saved_model_config(sampler):
    """The config a SavedModel is evaluated under: the baseline's eval settings, its resolution and channels, and the
    reference data of --dataset."""
    from tfgan_eff.config import presets

    cfg = presets.baseline()
    cfg.data.update(resolution=sampler.resolution, channels=sampler.channels)
    if _DATASET.value:
        cfg.data.source = _DATASET.value
    return cfg


class _SamplerGenerator:
    """The minimal generator contract evaluate_run samples through, over a GeneratorSampler."""

    def __init__(self, sampler):
        self.sampler, self.latent_dim, self.num_classes = sampler, sampler.latent_dim, sampler.num_classes

    def __call__(self, z, labels=None, training=False):
        import tensorflow as tf
        return tf.constant(self.sampler.generate(z, labels))


def main(argv):
    cli.no_positional_arguments(argv)
    logging.set_verbosity(logging.INFO)
    with cli.user_errors():  # TF quiet unless --tf_logs; a user error is one line (the traceback with --debug)
        from tfgan_eff import inference
        from tfgan_eff.data import sources
        from tfgan_eff.training import workdir
        from tfgan_eff.training.evaluator import evaluate_run

        path = _WORKDIR.value
        saved_model = os.path.isfile(os.path.join(path, "saved_model.pb"))
        if saved_model:
            _check_reference_flags()
        out_dir = os.path.dirname(os.path.abspath(path)) if saved_model else inference.run_dir_of(path)
        out = os.path.abspath(_OUT.value or os.path.join(out_dir, "eval.json"))
        with workdir.writing_into(os.path.dirname(out)):  # a live training of that work dir refuses this
            if saved_model:
                sampler = inference.load_generator(path)
                cfg, generator, source = _saved_model_config(sampler), _SamplerGenerator(sampler), sampler.source
            else:
                restored = inference.restore_run(path)
                cfg, generator, source = restored.cfg, restored.generator, restored.source
            with cfg.unlocked():
                for key, flag in (("num_samples", _NUM_SAMPLES), ("extractor", _EXTRACTOR),
                                  ("inception_weights", _INCEPTION), ("ref_stats", _REF_STATS)):
                    if flag.value is not None:
                        cfg.eval[key] = flag.value
            images, _ = sources.load_images(cfg.data)
            metrics = evaluate_run(cfg, generator, images, os.path.dirname(out), name=os.path.basename(out),
                                   source=source)
    print(json.dumps(metrics, indent=2))


if __name__ == "__main__":
    app.run(main)
