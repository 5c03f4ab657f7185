"""ember: PyTorch's API on Ember's CPU kernels."""
