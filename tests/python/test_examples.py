"""The Python examples run as a user runs them (subprocess, Debian's Fashion-MNIST), briefly: they train, print a
test accuracy in [0, 1] above chance, and the DDP example counts one uplink bit per coordinate per round."""
import os
import re
import subprocess
import sys

import pytest

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.normpath(os.path.join(HERE, "..", ".."))
EX = os.path.join(ROOT, "examples", "python")
DATA = "/usr/share/datasets/fashion-mnist"

pytestmark = pytest.mark.skipif(not os.path.exists(os.path.join(DATA, "t10k-labels-idx1-ubyte.gz")),
                                reason="dataset-fashion-mnist is not installed")


def run(script, *args, timeout=300):
    env = dict(os.environ, PYTHONPATH=os.path.join(ROOT, "python"), OMP_NUM_THREADS="1")
    r = subprocess.run([sys.executable, os.path.join(EX, script), *args], capture_output=True, text=True, env=env,
                       timeout=timeout, cwd=ROOT)
    assert r.returncode == 0, r.stdout + r.stderr
    return r.stdout


def test_train_signum_learns():
    out = run("train_signum.py", "--steps", "150", "--lr", "1e-3")
    acc = float(re.search(r"final test accuracy ([0-9.]+)", out).group(1))
    assert 0.5 < acc <= 1.0, out   # chance is 0.1; 150 signum steps of batch 32 reach about 0.7


def test_ddp_vote_example_counts_bits():
    out = run("ddp_vote.py", "--procs", "2", "--steps", "40")
    m = re.search(r"mv-signum over 2 processes: (\d+) parameters, (\d+) rounds, test accuracy ([0-9.]+)", out)
    assert m, out
    d, rounds, acc = int(m.group(1)), int(m.group(2)), float(m.group(3))
    assert rounds == 40 and d == sum([16 * 25 + 16, 32 * 16 * 25 + 32, 32 * 49 * 10 + 10])
    assert 0.2 < acc <= 1.0, out
    up = int(re.search(r"bits per worker: up (\d+)", out).group(1))
    assert up == d * rounds, out


def test_examples_refuse_bad_flags():
    env = dict(os.environ, PYTHONPATH=os.path.join(ROOT, "python"))
    r = subprocess.run([sys.executable, os.path.join(EX, "train_signum.py"), "--steps", "0"], capture_output=True,
                       text=True, env=env, timeout=120)
    assert r.returncode == 2 and "--steps" in r.stderr
