"""MultiWorkerMirroredStrategy: two worker processes on this machine end with identical weights."""

import json
import os
import socket
import subprocess
import sys

HERE = os.path.dirname(__file__)


def _free_ports(n):
    sockets = [socket.socket() for _ in range(n)]
    for s in sockets:
        s.bind(("127.0.0.1", 0))
    ports = [s.getsockname()[1] for s in sockets]
    for s in sockets:
        s.close()
    return ports


def test_two_workers_on_localhost_end_identical(tmp_path):
    workers = [f"127.0.0.1:{p}" for p in _free_ports(2)]
    procs = []
    for index in range(2):
        env = dict(os.environ, TF_CPP_MIN_LOG_LEVEL="2",
                   TF_CONFIG=json.dumps({"cluster": {"worker": workers}, "task": {"type": "worker", "index": index}}))
        # The two workers run side by side.
        procs.append(subprocess.Popen([sys.executable, os.path.join(HERE, "multi_worker_check.py"), str(tmp_path)],  # pylint: disable=consider-using-with
                                      stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env))
    outputs = []
    for proc in procs:
        out, err = proc.communicate(timeout=300)
        assert proc.returncode == 0, err[-3000:]
        outputs.append(json.loads(out.strip().splitlines()[-1]))
    assert outputs[0]["replicas"] == 2 and outputs[0]["steps"] == outputs[1]["steps"] == 2
    assert outputs[0]["digest"] == outputs[1]["digest"]
    # the chief writes the work dir; the other worker writes its own copy under workers/
    assert outputs[0]["checkpoint"].startswith(str(tmp_path / "checkpoints"))
    assert "workers" in outputs[1]["checkpoint"]
