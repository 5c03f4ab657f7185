# Fused optimizer updates: each element of param/grad/state is read and written once.
# The *_range kernels update elements [start, end); the drivers in optim.pyx split the
# range into blocks and hand blocks to threads.
from .types cimport real


cdef void sgd_range(real* p, const real* g, real* buf, Py_ssize_t start, Py_ssize_t end,
                    real lr, real momentum, real one_minus_dampening, real weight_decay,
                    bint nesterov, bint maximize, bint first_step) noexcept nogil

cdef void adam_range(real* p, const real* g, real* m, real* v, real* vmax,
                     Py_ssize_t start, Py_ssize_t end,
                     real neg_step_size, real one_minus_beta1, real beta2,
                     real one_minus_beta2, real bc2_sqrt, real eps, real weight_decay,
                     real decay_factor, bint decoupled, bint amsgrad,
                     bint maximize) noexcept nogil

cdef void rmsprop_range(real* p, const real* g, real* sq, real* gavg, real* buf,
                        Py_ssize_t start, Py_ssize_t end,
                        real lr, real alpha, real one_minus_alpha, real eps,
                        real weight_decay, real momentum, bint centered,
                        bint maximize) noexcept nogil
