"""``ember.backends``: what the running build can do, under torch's names."""
from . import cpu, cuda, cudnn, mps

__all__ = ["cpu", "cuda", "cudnn", "mps"]
