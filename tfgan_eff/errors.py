"""The one base class of expected user errors (bad config, missing data, locked work dir, ...).

The command lines print such an error as one line `error: <message>` and exit 2 (tfgan_eff/cli.py); anything else is
a bug and keeps its traceback. This module imports nothing from the package so that every layer can use it.
"""


class UserError(Exception):
    """A mistake the user can fix; the message names the problem and the fix."""
