/* The stride-2 rows of im2col and col2im (im2col.pyx) for float32: a gather
 * out[k] = src[2k] and its adjoint, a scatter-add dst[2k] += src[k], for k in [0, n).
 *
 * ResNet's downsampling 3x3s have output rows of 7-28 pixels. Written as plain loops the
 * vectoriser's 16-wide body never runs for a row that short and every element went through
 * the scalar tail (im2col of 4x128x28x28 -> 14x14 at one thread: 0.65 ms for 0.9 M floats,
 * a plain copy of the columns 0.08). With AVX-512 a row of up to 16 outputs is two masked
 * loads, one two-source permute and one masked store; the masks keep every access inside
 * the row, so nothing is read or written past what the scalar loop touches.
 *
 * Both are exact (a copy; one addition an element, in the scalar loop's order), so every
 * CPU level, with or without the vector path, gives the same bits.
 */
#ifndef EMBER_IM2COL_S2_H
#define EMBER_IM2COL_S2_H

#include <stddef.h>
#if defined(__AVX512F__)
#include <immintrin.h>
#endif

#if defined(__AVX512F__)
/* lanes [0, n) set, for 0 <= n <= 16 */
static inline __mmask16 i2c_mask(ptrdiff_t n)
{
    return n >= 16 ? (__mmask16)0xFFFF : (n <= 0 ? (__mmask16)0 : (__mmask16)((1u << n) - 1));
}
#endif

static inline void i2c_gather_s2(const float* src, float* out, ptrdiff_t n)
{
#if defined(__AVX512F__)
    const __m512i even = _mm512_setr_epi32(0, 2, 4, 6, 8, 10, 12, 14,
                                           16, 18, 20, 22, 24, 26, 28, 30);
    while (n > 0) {
        ptrdiff_t m = n < 16 ? n : 16;
        /* src[0 .. 2m - 2] is read: 2m - 1 floats */
        __m512 a = _mm512_maskz_loadu_ps(i2c_mask(2 * m - 1), src);
        __m512 b = _mm512_maskz_loadu_ps(i2c_mask(2 * m - 17), src + 16);
        _mm512_mask_storeu_ps(out, i2c_mask(m), _mm512_permutex2var_ps(a, even, b));
        src += 32;
        out += 16;
        n -= m;
    }
#else
    for (ptrdiff_t k = 0; k < n; k++)
        out[k] = src[2 * k];
#endif
}

static inline void i2c_scatter_add_s2(const float* src, float* dst, ptrdiff_t n)
{
#if defined(__AVX512F__)
    /* lane 2k of the low (high) spread holds src[k] (src[8 + k]) */
    const __m512i lo = _mm512_setr_epi32(0, 0, 1, 1, 2, 2, 3, 3, 4, 4, 5, 5, 6, 6, 7, 7);
    const __m512i hi = _mm512_setr_epi32(8, 8, 9, 9, 10, 10, 11, 11,
                                         12, 12, 13, 13, 14, 14, 15, 15);
    const __mmask16 even = 0x5555;
    while (n > 0) {
        ptrdiff_t m = n < 16 ? n : 16;
        __mmask16 ma = i2c_mask(2 * m - 1) & even;
        __mmask16 mb = i2c_mask(2 * m - 17) & even;
        __m512 s = _mm512_maskz_loadu_ps(i2c_mask(m), src);
        __m512 a = _mm512_maskz_loadu_ps(ma, dst);
        __m512 b = _mm512_maskz_loadu_ps(mb, dst + 16);
        /* only the even lanes are added and stored: the odd ones belong to other taps */
        a = _mm512_add_ps(a, _mm512_permutexvar_ps(lo, s));
        b = _mm512_add_ps(b, _mm512_permutexvar_ps(hi, s));
        _mm512_mask_storeu_ps(dst, ma, a);
        _mm512_mask_storeu_ps(dst + 16, mb, b);
        src += 16;
        dst += 32;
        n -= m;
    }
#else
    for (ptrdiff_t k = 0; k < n; k++)
        dst[2 * k] += src[k];
#endif
}

#endif
