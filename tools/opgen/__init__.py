"""The writers behind tools/generate_ops.py (its docstring says which module writes what)."""
