# Per-channel statistics and affine passes for batch normalisation on (N, C, L) blocks.
# Statistics accumulate in double whatever the storage type: a float32 sum over a whole
# batch of feature maps would lose digits torch keeps.
from .types cimport real
