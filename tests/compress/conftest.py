"""The smoke-sized compression config of the compress tests."""

import pytest

from tfgan_eff.config import presets


@pytest.fixture
def compress_cfg():
    """`--method=compress --smoke` (a 4-step teacher, stage 2 from step 2 of 4)."""
    return presets.smoke(presets.get("compress"))
