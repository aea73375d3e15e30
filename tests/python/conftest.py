"""pytest setup for signopt's Python tests: the package from the checkout (python/), the library from build/."""
import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.normpath(os.path.join(HERE, "..", ".."))
sys.path.insert(0, os.path.join(ROOT, "python"))
os.environ.setdefault("PYTHONPATH", os.path.join(ROOT, "python"))
