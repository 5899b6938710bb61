"""`python -m tfgan_eff.train`, with every tf.function run eagerly (same flags, same work dir layout).

Why: tracing the alphaGAN supernet's five step functions costs ~45 s of CPU in every process, while a smoke-sized
round runs in ~2 s eagerly; a kill test starts three processes.
"""

import tensorflow as tf
from absl import app

from tfgan_eff import train

if __name__ == "__main__":
    tf.config.run_functions_eagerly(True)
    app.run(train.main, flags_parser=train.parse_flags)
