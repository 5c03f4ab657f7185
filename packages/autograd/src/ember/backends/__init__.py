"""``ember.backends``: what the running build can do, under torch's names."""
from . import cpu

__all__ = ["cpu"]
