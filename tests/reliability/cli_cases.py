"""Runs several invocations of one command line in one process: `python cli_cases.py MODULE CASES.json` runs
MODULE's flags parser and main() (what `python -m MODULE` runs) on each argv of the JSON list, in order, and prints
one JSON list of {"code": exit code, "stderr": what the process wrote to stderr (fd 2)}.

Why: each TF-importing process costs ~5 s of CPU; the user-mistake cases of a command share one import here. Flags
are reset between cases, as a fresh process would have them.
"""

import importlib
import json
import os
import sys
import tempfile

from absl import flags


def _run_one(module, argv):
    """(exit code, stderr) of module.main on argv; stderr is captured at fd 2, so C++ lines count too."""
    flags.FLAGS.unparse_flags()
    with tempfile.TemporaryFile() as captured:
        sys.stderr.flush()
        saved = os.dup(2)
        os.dup2(captured.fileno(), 2)
        try:
            module.main(flags.FLAGS([module.__name__, *argv]))
            code = 0
        except SystemExit as exit_:
            code = exit_.code
        finally:
            sys.stderr.flush()
            os.dup2(saved, 2)
            os.close(saved)
        captured.seek(0)
        return code, captured.read().decode(errors="replace")


def main(module_name, cases_path):
    module = importlib.import_module(module_name)
    with open(cases_path, encoding="utf-8") as f:
        cases = json.load(f)
    results = [dict(zip(("code", "stderr"), _run_one(module, argv))) for argv in cases]
    print(json.dumps(results))


if __name__ == "__main__":
    main(*sys.argv[1:])
