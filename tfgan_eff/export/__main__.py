"""`python -m tfgan_eff.export --workdir=DIR`: SavedModel + TFLite (float32, dynamic-range int8, full int8) of a
run's generator (EMA weights, masks stripped), each verified against Keras; report in `<out>/report.json`, which
records the step and checkpoint exported. The work dir that holds the output is locked while it is written, so a
live training of that work dir refuses the command."""

import dataclasses
import os

from absl import app, flags, logging

from tfgan_eff import cli
from tfgan_eff.config import schema

flags.adopt_module_key_flags(cli)  # --debug and --tf_logs in --help
_WORKDIR = flags.DEFINE_string("workdir", None, "Work dir (or checkpoint prefix) of a training run.", required=True)
_OUT = flags.DEFINE_string("out", None, "Output dir (default: <run dir>/export).")
_MODES = flags.DEFINE_list("modes", list(schema.EXPORT_MODES), "TFLite modes to convert.")
_SPARSITY = flags.DEFINE_bool("sparsity_report", False, "Also try the converter's sparse encoding and report "
                              "kernel zero fractions (for --method=sparse runs).")


def main(argv):
    cli.no_positional_arguments(argv)
    logging.set_verbosity(logging.INFO)
    with cli.user_errors():  # TF quiet unless --tf_logs; a user error is one line (the traceback with --debug)
        from tfgan_eff import inference
        from tfgan_eff.export import ExportSettings, export_generator
        from tfgan_eff.training import workdir

        settings = ExportSettings(modes=_MODES.value, sparsity_report=_SPARSITY.value)
        run_dir = inference.run_dir_of(_WORKDIR.value)  # checked before anything is written, --out or not
        out = os.path.abspath(_OUT.value or os.path.join(run_dir, "export"))
        with workdir.writing_into(out):  # a live training of that work dir refuses this
            restored = inference.restore_run(_WORKDIR.value)
            settings = dataclasses.replace(settings, seed=restored.cfg.seed)
            report = export_generator(restored.generator, out, settings, source=restored.source)
    for name, entry in report["artifacts"].items():
        if "error" in entry:
            logging.error("%s: %s", name, entry["error"])
        else:
            logging.info("%-14s max|diff| %.2e  %8d bytes (%d gz)  %.3f ms/image", name, entry["max_abs_diff"],
                         entry["size_bytes"], entry["gzip_bytes"], entry["latency_ms_per_image"])
    print(os.path.join(out, "report.json"))


if __name__ == "__main__":
    app.run(main)
