"""The config `--config.*` overrides are parsed against when no --config file is given (the full schema)."""

from tfgan_eff.config.schema import base_config


def get_config():
    return base_config()
