"""`python -m tfgan_eff.train`, with every tf.function run eagerly (same flags, same work dir layout).

Why: tracing the alphaGAN supernet's five step functions costs ~45 s of CPU in every process (over 2 minutes with
the preset's reflect padding at 16 px), while a smoke-sized round runs in seconds eagerly. The kill tests and the
shipped search config's smoke run use it; tests/search/test_searcher_traced.py checks a traced round against an
eager one.
"""

import tensorflow as tf
from absl import app

from tfgan_eff import train

if __name__ == "__main__":
    tf.config.run_functions_eagerly(True)
    app.run(train.main, flags_parser=train.parse_flags)
