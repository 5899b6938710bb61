"""Command line: `python -m tfgan_eff.train --method=dgl [--config=configs/x.py] [--config.a.b=v] [--smoke]`.

Flags only parse; `tfgan_eff.train_lib.run` does the work.
"""

import os

from absl import app, flags, logging
from ml_collections import config_flags

from tfgan_eff import cli
from tfgan_eff.config import presets, registry, schema
from tfgan_eff.config.validate import ConfigError

_DEFAULT_CONFIG = os.path.join(os.path.dirname(__file__), "config", "default_config.py")

_METHOD = flags.DEFINE_enum("method", None, registry.names(),
                            "What to run: " + "; ".join(f"{m.name} ({m.help})" for m in registry.methods()) +
                            ". Default: the --config file's method, else baseline.")
def _bad_override(err):
    """Exits with one clear line for a bad --config.* override (unknown key, wrong type)."""
    message = str(err.args[0] if err.args else err).replace("\\'", "'").replace("\\n", " ").strip("'\"")
    cli.fail(f"bad --config override: {message}")


# config_flags parses --config.* overrides against the config as soon as the flag is defined.
try:
    _CONFIG = config_flags.DEFINE_config_file(
        "config", _DEFAULT_CONFIG,
        "Config file (configs/*.py). Without it the method's built-in default runs. Override any key with "
        "--config.section.key=value (e.g. --config.train.steps=500); unknown keys and wrong types are errors.",
        lock_config=True)
except (AttributeError, KeyError, TypeError, ValueError) as _err:
    _bad_override(_err)
_WORKDIR = flags.DEFINE_string("workdir", None, "Work dir for checkpoints, samples, metrics and exports; rerunning "
                               "the same command resumes there. Default: runs/<config name>.")
_STRATEGY = flags.DEFINE_enum("strategy", None, list(schema.STRATEGIES),
                              "tf.distribute strategy (overrides config train.strategy): auto, cpu, mirrored, "
                              "multi_worker (TF_CONFIG) or tpu.")
flags.adopt_module_key_flags(cli)  # --debug and --tf_logs in --help
_SMOKE = flags.DEFINE_bool("smoke", False, "Shrink the config to a seconds-long run (tiny models, 16 px, a few "
                           "steps): checks that a config runs end to end.")


def _apply_overrides(cfg):
    for key, value in config_flags.get_override_values(flags.FLAGS["config"]).items():
        target = cfg
        *parents, leaf = key.split(".")
        for part in parents:
            target = target[part]
        target[leaf] = value


def build_config():
    """The config from flags: the --config file or the method's default, shrunk by --smoke, then every
    --config.* override (so overrides win over --smoke)."""
    config_file = config_flags.get_config_filename(flags.FLAGS["config"])
    if config_file != _DEFAULT_CONFIG:
        cfg = _CONFIG.value
        if _METHOD.value and _METHOD.value != cfg.method:
            raise ConfigError(f"--method={_METHOD.value} but {config_file} is a {cfg.method} config: drop --method "
                              f"or pass --method={cfg.method}")
    else:
        cfg = presets.get(_METHOD.value or "baseline")
    cfg.unlock()
    if _SMOKE.value:
        presets.smoke(cfg)
    _apply_overrides(cfg)
    if _STRATEGY.value:
        cfg.train.strategy = _STRATEGY.value
    return cfg


def main(argv):
    cli.no_positional_arguments(argv)
    logging.set_verbosity(logging.INFO)
    with cli.user_errors():  # TF quiet unless --tf_logs; a user error is one line (the traceback with --debug)
        try:
            cfg = build_config()
        except ConfigError:
            raise
        except Exception as err:  # pylint: disable=broad-exception-caught  # the --config file is user code
            raise ConfigError(
                f"cannot build the config from {config_flags.get_config_filename(flags.FLAGS['config'])}: "
                f"{type(err).__name__}: {' '.join(str(err).split())}. Its get_config() must return an "
                "ml_collections.ConfigDict built on tfgan_eff.config.schema.base_config()") from err
        workdir = _WORKDIR.value or os.path.join("runs", cfg.name + ("_smoke" if _SMOKE.value else ""))
        from tfgan_eff import train_lib  # TF loads after flag parsing
        train_lib.run(cfg, workdir)
    logging.info("done: %s", os.path.join(workdir, "summary.json"))


def parse_flags(argv):
    """absl's parser, with a bad --config.* override value reported as one clear line."""
    try:
        return flags.FLAGS(argv)
    except (flags.IllegalFlagValueError, AttributeError, KeyError, TypeError) as err:
        _bad_override(err)
    except flags.Error:
        raise  # absl reports its own flag errors in one line
    except Exception as err:  # pylint: disable=broad-exception-caught  # the --config file is user code
        cli.fail(f"cannot load the --config file: {type(err).__name__}: {' '.join(str(err).split())}")


if __name__ == "__main__":
    app.run(main, flags_parser=parse_flags)
