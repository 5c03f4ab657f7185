# Shared fused types for the kernels. One place, so every kernel agrees on what a dtype is.
from libc.stdint cimport int8_t, int16_t, int32_t, int64_t, uint8_t

# Floating types: every math kernel is instantiated for these two.
ctypedef fused real:
    float
    double

# Every storage type Ember computes on (bool travels as uint8: same size, same bits).
ctypedef fused numeric:
    float
    double
    int64_t
    int32_t
    int16_t
    int8_t
    uint8_t
