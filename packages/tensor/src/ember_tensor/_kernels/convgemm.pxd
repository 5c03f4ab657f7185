# A packed float32 GEMM for convolutions that gathers the im2col operand straight from the
# input into its panels (convgemm.h); convgemm.pyx wraps it for conv.py. convgemm.h includes
# "convgemm_tail.h", "convgemm_border.h" and "convgemm_pack.h" (named here so that setup.py
# rebuilds the module when they change).
from libc.stdint cimport uint64_t

cdef extern from "convgemm.h" nogil:
    ctypedef struct cg_geom:
        Py_ssize_t C, PH, PW, M, K, kh, kw, sh, sw, dh, dw, OH, OW
        Py_ssize_t H, W, ph, pw
        Py_ssize_t tail0
        const int* porder
        const int* cls_start
        const uint64_t* cls_mask
        Py_ssize_t nb
        int direct
    int cg_border_order(const cg_geom* g, int rows_only, int* porder, int* cls_start,
                        uint64_t* cls_mask)
    Py_ssize_t cg_border_saving(const cg_geom* g)
    int CG_VW
    int CG_MR
    int CG_NB
    int CG_NC
    int CG_SLACK
    int cg_panel_floats()
    Py_ssize_t cg_tail_start(Py_ssize_t Q)
    int CG_POSITION_MAX_PIXELS
    int cg_by_position(const cg_geom* g)
    int CG_POSITION_GROUP
    Py_ssize_t cg_position_kidx_ints()
    Py_ssize_t cg_position_acc_floats(Py_ssize_t M)
    void cg_task_position(const cg_geom* g, const float* xp, const float* w, float* out,
                          float* b, Py_ssize_t pstride, int* kidx, float* acc, Py_ssize_t n0,
                          Py_ssize_t n1, Py_ssize_t c0, Py_ssize_t c1)
    void cg_task(const cg_geom* g, const float* xp, const float* w, float* out, float* b,
                 float* vout, Py_ssize_t q0, Py_ssize_t q1, Py_ssize_t c0, Py_ssize_t c1)
