"""The names config validation accepts for eval.metrics and export.modes are those the metrics suite computes and the
exporter converts (the config layer restates them: it imports neither)."""

from tfgan_eff.config import schema
from tfgan_eff.export.tflite import MODES
from tfgan_eff.metrics.suite import ALL_METRICS


def test_metric_and_mode_names_match_the_code_that_uses_them():
    assert schema.EVAL_METRICS == ALL_METRICS
    assert schema.EXPORT_MODES == MODES
