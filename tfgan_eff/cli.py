"""What every command line shares: the --debug and --tf_logs flags and one-line reporting of user errors."""

import contextlib
import sys

from absl import flags

from tfgan_eff import tf_logs
from tfgan_eff.errors import UserError

_DEBUG = flags.DEFINE_bool("debug", False, "Show the traceback of an expected error (bad config, missing data, "
                           "locked work dir, no checkpoint, NaN stop) instead of one line `error: ...`.")
_TF_LOGS = flags.DEFINE_bool("tf_logs", False, "Show TensorFlow's own INFO/WARNING/ERROR log lines (hidden by "
                             "default; our progress and result lines are always shown).")

EXIT_USER_ERROR = 2


def fail(message):
    """Ends the process with `error: <message>` on stderr and exit code 2."""
    print(f"error: {message}", file=sys.stderr)
    sys.exit(EXIT_USER_ERROR)


def no_positional_arguments(argv):
    """Ends the process through `fail` when argv (absl's, the program first) holds anything but flags."""
    if len(argv) > 1:
        fail(f"unexpected argument(s) {' '.join(argv[1:])!r}: every option is a --flag=value (see --help)")


@contextlib.contextmanager
def user_errors():
    """The body of a CLI's main(): TF's logs are silenced unless --tf_logs (enter it before TF is imported), and a
    tfgan_eff.errors.UserError ends the process through `fail` (re-raised with its traceback under --debug)."""
    tf_logs.configure(show=_TF_LOGS.value)
    try:
        yield
    except UserError as err:
        if _DEBUG.value:
            raise
        fail(err)
