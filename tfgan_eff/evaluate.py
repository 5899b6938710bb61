"""`python -m tfgan_eff.evaluate --workdir=DIR`: IS / FID / KID / precision-recall / density-coverage of a trained
generator, printed and written with the protocol to `<DIR>/eval.json`.

DIR is a work dir (EMA weights, evaluated under the run's own data/eval config), a checkpoint prefix, or an exported
SavedModel (then --dataset names the reference data, or --ref_stats a .npz from tools/compute_ref_stats.py).
"""

import json
import os

from absl import app, flags, logging

from tfgan_eff import cli

flags.adopt_module_key_flags(cli)  # --debug and --tf_logs in --help
_WORKDIR = flags.DEFINE_string("workdir", None, "Work dir, checkpoint prefix or SavedModel dir to evaluate.",
                               required=True)
_NUM_SAMPLES = flags.DEFINE_integer("num_samples", None, "Generated samples (default: the run's eval.num_samples).")
_EXTRACTOR = flags.DEFINE_enum("extractor", None, ["offline", "inception"],
                               "Feature extractor (default: the run's eval.extractor).")
_INCEPTION = flags.DEFINE_string("inception_weights", None, "Local InceptionV3 weights (.h5) for --extractor=inception.")
_REF_STATS = flags.DEFINE_string("ref_stats", None, "Reference statistics .npz (default: computed from the data).")
_DATASET = flags.DEFINE_string("dataset", None, "Reference data source for a SavedModel (digits, shapes, tfds:NAME, "
                               "folder:PATH); a work dir uses its own.")
_OUT = flags.DEFINE_string("out", None, "Where to write the results (default: <workdir>/eval.json, or next to a "
                           "SavedModel).")


def _config_and_generator(path):
    from tfgan_eff import inference  # pylint: disable=import-outside-toplevel
    from tfgan_eff.config import presets  # pylint: disable=import-outside-toplevel

    if os.path.isfile(os.path.join(path, "saved_model.pb")):
        sampler = inference.load_generator(path)
        cfg = presets.baseline()
        cfg.data.update(resolution=sampler.resolution, channels=sampler.channels)
        if _DATASET.value:
            cfg.data.source = _DATASET.value
        elif not _REF_STATS.value:
            raise app.UsageError("evaluating a SavedModel needs --dataset=... or --ref_stats=...")

        class _Generator:  # the minimal generator contract evaluate_run samples through
            latent_dim, num_classes = sampler.latent_dim, sampler.num_classes

            def __call__(self, z, labels=None, training=False):
                import tensorflow as tf  # pylint: disable=import-outside-toplevel
                return tf.constant(sampler.generate(z, labels))

        return cfg, _Generator(), os.path.dirname(os.path.abspath(path))
    generator, cfg = inference.restore_generator(path)
    run_dir = inference.find_run_dir(path) if os.path.isdir(path) else os.path.dirname(os.path.dirname(path))
    return cfg, generator, run_dir


def main(argv):
    if len(argv) > 1:
        raise app.UsageError(f"unexpected arguments: {argv[1:]}")
    logging.set_verbosity(logging.INFO)
    with cli.user_errors():  # TF quiet unless --tf_logs; a user error is one line (the traceback with --debug)
        from tfgan_eff.data import sources  # pylint: disable=import-outside-toplevel
        from tfgan_eff.training.evaluator import evaluate_run  # pylint: disable=import-outside-toplevel

        cfg, generator, out_dir = _config_and_generator(_WORKDIR.value)
        with cfg.unlocked():
            for key, flag in (("num_samples", _NUM_SAMPLES), ("extractor", _EXTRACTOR),
                              ("inception_weights", _INCEPTION), ("ref_stats", _REF_STATS)):
                if flag.value is not None:
                    cfg.eval[key] = flag.value
        images, _ = sources.load_images(cfg.data)
        out = _OUT.value or os.path.join(out_dir, "eval.json")
        metrics = evaluate_run(cfg, generator, images, os.path.dirname(out) or ".", name=os.path.basename(out))
    print(json.dumps(metrics, indent=2))


if __name__ == "__main__":
    app.run(main)
