"""Make this folder's helper modules (``op_helpers``) importable by its tests.

The suite runs with ``--import-mode=importlib``, which does not put test folders on sys.path.
"""
import pathlib
import sys

sys.path.insert(0, str(pathlib.Path(__file__).parent))
