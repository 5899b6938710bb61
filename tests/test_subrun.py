"""`python -m tfgan_eff.subrun`: what the executor starts per sub-run (train.jobs > 1); a wrong start is one line."""

import json

import pytest
from absl import app, flags

from tfgan_eff import subrun
from tfgan_eff.config import presets
from tfgan_eff.training.experiment import SUBRUN_CONFIG


@pytest.fixture
def parsed_flags():
    """The process's flags parsed with defaults, as app.run leaves them, then unparsed again."""
    flags.FLAGS.unparse_flags()
    flags.FLAGS(["subrun"])
    yield
    flags.FLAGS.unparse_flags()


@pytest.mark.usefixtures("parsed_flags")
def test_a_work_dir_without_the_executors_config_or_a_sub_run_not_in_the_plan_is_a_usage_error(tmp_path):
    with pytest.raises(app.UsageError, match=r"subrun_config.json not found: .*--config.train.jobs=N"):
        subrun.main(["subrun", str(tmp_path), "dense", "1"])
    cfg = presets.smoke(presets.get("sparse"))
    (tmp_path / SUBRUN_CONFIG).write_text(json.dumps(cfg.to_dict()))
    with pytest.raises(app.UsageError, match=r"the sparse plan in .* has no sub-run 'dens'; it has \['sparse'"):
        subrun.main(["subrun", str(tmp_path), "dens", "1"])
    with pytest.raises(app.UsageError, match="usage: python -m tfgan_eff.subrun WORKDIR NAME THREADS"):
        subrun.main(["subrun", str(tmp_path)])
