"""What the command's suites share (test_cli.py, test_cli_runs.py,
test_cli_options.py): a faultd per test class (through tests/h2front.py,
over HTTP/2, in the native-h2 run), the command run with arguments, its
JSON lines, and the runner that takes --salvo, --faultd and
--sanitized."""
import argparse
import json
import os
import subprocess
import sys
import tempfile
import unittest

from faultdproc import Faultd

HERE = os.path.dirname(os.path.abspath(__file__))

# --salvo, --faultd and --sanitized, set by main() before a test runs.
ARGS = argparse.Namespace()
# The native-h2 run: faultd through tests/h2front.py, over HTTP/2.
H2 = os.environ.get("SALVO_HTTP_VERSION") == "2-prior-knowledge"


def salvo(*args, stdin=None, timeout=60):
    p = subprocess.run([ARGS.salvo, *args], input=stdin, capture_output=True,
                       text=True, timeout=timeout)
    return p


def lines(out):
    """Every stdout line must be one JSON object."""
    result = []
    for line in out.splitlines():
        obj = json.loads(line)
        assert isinstance(obj, dict), line
        result.append(obj)
    return result


class WithFaultd(unittest.TestCase):
    """A faultd for the class's tests, and a scratch directory."""
    FAULTD_ARGS = ()

    @classmethod
    def setUpClass(cls):
        cls.srv = Faultd(ARGS.faultd, *cls.FAULTD_ARGS)
        cls.tmp = tempfile.TemporaryDirectory()

    @classmethod
    def tearDownClass(cls):
        cls.srv.stop()
        cls.tmp.cleanup()

    def url(self, path):
        return self.srv.url(path)


def threads_waiting(pid):
    """Each thread of pid: its name, the kernel function it sleeps in and
    its system call (number and arguments, /proc's syscall file)."""
    out = []
    for tid in sorted(os.listdir(f"/proc/{pid}/task")):
        fields = []
        for name in ("comm", "wchan", "syscall"):
            try:
                with open(f"/proc/{pid}/task/{tid}/{name}") as f:
                    fields.append(f.read().strip())
            except OSError as e:
                fields.append(f"({name}: {e.strerror})")
        out.append(f"{tid} " + " | ".join(fields))
    return "; ".join(out)


def main():
    """Runs the calling suite's tests with the arguments ctest gives."""
    ap = argparse.ArgumentParser()
    ap.add_argument("--salvo", required=True)
    ap.add_argument("--faultd", required=True)
    ap.add_argument("--sanitized", action="store_true")
    parsed, rest = ap.parse_known_args()
    vars(ARGS).update(vars(parsed))
    unittest.main(module="__main__", argv=[sys.argv[0], *rest], verbosity=2)
