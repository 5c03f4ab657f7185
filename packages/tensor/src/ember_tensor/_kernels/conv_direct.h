/* Direct float32 convolution (groups 1) with vectors along OUTPUT CHANNELS (AVX-512 only).

   out[n, co, oh, ow] = sum over (c, i, j) of W[co, c, i, j] * xpad[n, c, oh*sh + i*dh,
   ow*sw + j*dw]

   Register tile: CD_CO = 32 output channels (2 zmm) x up to CD_PX = 14 output pixels, the
   pixels being R rows (1 or 2) of U consecutive pixels of one image's output plane. Each
   tap loads the 32 channels' weights (packed per call as [block][c][i][j][32]) and
   broadcasts each pixel's input value straight from the (zero-padded) NCHW plane: a pixel's
   value sits at a constant displacement u*sw from the tile's row pointer, so a strided
   convolution costs no gather. Every tap of K is summed in the registers (no partial sums
   in memory); the tile is transposed in registers and stored to NCHW by masked stores.

   Every output element is one chain of fused multiply-adds in (c, i, j) order whichever
   tile or thread computes it, so any split of the work gives the same bits. */
#ifndef EMBER_CONV_DIRECT_H
#define EMBER_CONV_DIRECT_H
#include <stddef.h>
#include <string.h>
#include <Python.h>

/* vectors of output channels a tile: 4 (64 channels x 7 pixels) ran the ResNet 3x3/2
   shapes within 1% of 2 in a harness (one image, hot caches, 1 thread: 56.6-57.7 GMAC/s,
   the FMA ceiling) and leaves wider planes fewer pixels a tile. The tile tables below
   assume 2. */
#define CD_NV 2
#define CD_CO (16 * CD_NV)
#define CD_PX (28 / CD_NV)

typedef struct {
    Py_ssize_t C, PH, PW, M, K, kh, kw, sh, sw, dh, dw, OH, OW;
} cd_geom;

#if defined(__AVX512F__)
#include <immintrin.h>
#define CD_AVAILABLE 1

/* t[j] lane i = r[i] lane j: a 16 x 16 transpose in registers */
static inline __attribute__((always_inline)) void cd_transpose16(__m512 r[16])
{
    __m512 t[16];
    for (int i = 0; i < 16; i += 2) {
        t[i] = _mm512_unpacklo_ps(r[i], r[i + 1]);
        t[i + 1] = _mm512_unpackhi_ps(r[i], r[i + 1]);
    }
    for (int i = 0; i < 16; i += 4) {
        r[i] = _mm512_castpd_ps(_mm512_unpacklo_pd(_mm512_castps_pd(t[i]),
                                                   _mm512_castps_pd(t[i + 2])));
        r[i + 1] = _mm512_castpd_ps(_mm512_unpackhi_pd(_mm512_castps_pd(t[i]),
                                                       _mm512_castps_pd(t[i + 2])));
        r[i + 2] = _mm512_castpd_ps(_mm512_unpacklo_pd(_mm512_castps_pd(t[i + 1]),
                                                       _mm512_castps_pd(t[i + 3])));
        r[i + 3] = _mm512_castpd_ps(_mm512_unpackhi_pd(_mm512_castps_pd(t[i + 1]),
                                                       _mm512_castps_pd(t[i + 3])));
    }
    /* then 4 x 4 blocks of 128-bit lanes: two rounds of lane shuffles */
    for (int i = 0; i < 4; i++) {
        t[i] = _mm512_shuffle_f32x4(r[i], r[i + 4], 0x88);
        t[i + 4] = _mm512_shuffle_f32x4(r[i], r[i + 4], 0xdd);
        t[i + 8] = _mm512_shuffle_f32x4(r[i + 8], r[i + 12], 0x88);
        t[i + 12] = _mm512_shuffle_f32x4(r[i + 8], r[i + 12], 0xdd);
    }
    for (int i = 0; i < 4; i++) {
        r[i] = _mm512_shuffle_f32x4(t[i], t[i + 8], 0x88);
        r[i + 8] = _mm512_shuffle_f32x4(t[i], t[i + 8], 0xdd);
        r[i + 4] = _mm512_shuffle_f32x4(t[i + 4], t[i + 12], 0x88);
        r[i + 12] = _mm512_shuffle_f32x4(t[i + 4], t[i + 12], 0xdd);
    }
}


/* One tile: R rows of U pixels (x0: the first pixel's first tap in the padded plane of
   channel 0; rowstep: floats between the tile's rows), all K taps, stored to the first nco
   of the block's 32 output planes (out: the tile's first pixel in the first plane). */
static inline __attribute__((always_inline)) void
cd_tile(const float* x0, Py_ssize_t rowstep, const float* wp, const cd_geom* g,
        Py_ssize_t plane, float* out, Py_ssize_t OHW, Py_ssize_t OW, int nco,
        const int U, const int R, const int SW)
{
    __m512 a[CD_NV][CD_PX];
    for (int p = 0; p < R * U; p++)
        for (int v = 0; v < CD_NV; v++) a[v][p] = _mm512_setzero_ps();
    const Py_ssize_t kh = g->kh, kw = g->kw, dhp = g->dh * g->PW, dw = g->dw;
    for (Py_ssize_t c = 0; c < g->C; c++) {
        const float* xc = x0 + c * plane;
        for (Py_ssize_t i = 0; i < kh; i++) {
            const float* xr = xc + i * dhp;
            for (Py_ssize_t j = 0; j < kw; j++) {
                const float* xt = xr + j * dw;
                const float* xt1 = xt + rowstep;
                __m512 wv[CD_NV];
                for (int v = 0; v < CD_NV; v++) wv[v] = _mm512_load_ps(wp + 16 * v);
                wp += CD_CO;
                for (int u = 0; u < U; u++) {
                    __m512 b = _mm512_set1_ps(xt[u * SW]);
                    for (int v = 0; v < CD_NV; v++) a[v][u] = _mm512_fmadd_ps(wv[v], b, a[v][u]);
                }
                if (R > 1) {
                    for (int u = 0; u < U; u++) {
                        __m512 b = _mm512_set1_ps(xt1[u * SW]);
                        for (int v = 0; v < CD_NV; v++)
                            a[v][U + u] = _mm512_fmadd_ps(wv[v], b, a[v][U + u]);
                    }
                }
            }
        }
    }
    /* transpose 16 channels x 16 pixels (zeros past R*U) and store each channel's pixels:
       row 0 from lane 0, row 1 (R == 2) from lane U, written at OW - U floats further so
       that lane U lands on the next output row */
    const __mmask16 m0 = (__mmask16)((1u << U) - 1), m1 = (__mmask16)(m0 << U);
    for (int h = 0; h < CD_NV && h * 16 < nco; h++) {
        __m512 r[16];
        for (int p = 0; p < 16; p++)
            r[p] = p < R * U ? a[h][p] : _mm512_setzero_ps();
        cd_transpose16(r);
        int n = nco - h * 16 < 16 ? nco - h * 16 : 16;
        for (int co = 0; co < n; co++) {
            float* o = out + (h * 16 + co) * OHW;
            _mm512_mask_storeu_ps(o, m0, r[co]);
            if (R > 1) _mm512_mask_storeu_ps(o + OW - U, m1, r[co]);
        }
    }
}

/* wp[b][k][i] = w[b*32 + i][k] for blocks b0..b1-1, zero past the M channels: 16 x 16
   pieces transposed in registers */
static void cd_pack_weights(const float* w, float* wp, Py_ssize_t M, Py_ssize_t K,
                            Py_ssize_t b0, Py_ssize_t b1)
{
    for (Py_ssize_t b = b0; b < b1; b++) {
        float* d = wp + b * K * CD_CO;
        for (Py_ssize_t k0 = 0; k0 < K; k0 += 16) {
            int nk = K - k0 < 16 ? (int)(K - k0) : 16;
            __mmask16 mk = (__mmask16)((1u << nk) - 1);
            for (int h = 0; h < CD_NV; h++) {
                __m512 r[16];
                for (int i = 0; i < 16; i++) {
                    Py_ssize_t co = b * CD_CO + h * 16 + i;
                    r[i] = co < M ? _mm512_maskz_loadu_ps(mk, w + co * K + k0)
                                  : _mm512_setzero_ps();
                }
                cd_transpose16(r);
                for (int k = 0; k < nk; k++)
                    _mm512_store_ps(d + (k0 + k) * CD_CO + h * 16, r[k]);
            }
        }
    }
}

typedef void (*cd_tile_fn)(const float*, Py_ssize_t, const float*, const cd_geom*,
                           Py_ssize_t, float*, Py_ssize_t, Py_ssize_t, int);

#define CD_DEF(SW, R, U) \
    static void cd_tile_##SW##_##R##_##U(const float* x0, Py_ssize_t rs, const float* wp, \
                                         const cd_geom* g, Py_ssize_t pl, float* o, \
                                         Py_ssize_t ohw, Py_ssize_t ow, int nco) \
    { cd_tile(x0, rs, wp, g, pl, o, ohw, ow, nco, U, R, SW); }
#define CD_DEF_U(SW, R) \
    CD_DEF(SW, R, 1) CD_DEF(SW, R, 2) CD_DEF(SW, R, 3) CD_DEF(SW, R, 4) CD_DEF(SW, R, 5) \
    CD_DEF(SW, R, 6) CD_DEF(SW, R, 7)
#define CD_DEF_W(SW) \
    CD_DEF(SW, 1, 8) CD_DEF(SW, 1, 9) CD_DEF(SW, 1, 10) CD_DEF(SW, 1, 11) \
    CD_DEF(SW, 1, 12) CD_DEF(SW, 1, 13) CD_DEF(SW, 1, 14)
CD_DEF_U(1, 1) CD_DEF_U(1, 2) CD_DEF_W(1)
CD_DEF_U(2, 1) CD_DEF_U(2, 2) CD_DEF_W(2)

#define CD_ROW(SW, R) { NULL, cd_tile_##SW##_##R##_1, cd_tile_##SW##_##R##_2, \
    cd_tile_##SW##_##R##_3, cd_tile_##SW##_##R##_4, cd_tile_##SW##_##R##_5, \
    cd_tile_##SW##_##R##_6, cd_tile_##SW##_##R##_7
#define CD_ROW1(SW) CD_ROW(SW, 1), cd_tile_##SW##_1_8, cd_tile_##SW##_1_9, \
    cd_tile_##SW##_1_10, cd_tile_##SW##_1_11, cd_tile_##SW##_1_12, cd_tile_##SW##_1_13, \
    cd_tile_##SW##_1_14 }
#define CD_ROW2(SW) CD_ROW(SW, 2), NULL, NULL, NULL, NULL, NULL, NULL, NULL }

static const cd_tile_fn cd_tiles[2][2][CD_PX + 1] = {
    {CD_ROW1(1), CD_ROW2(1)},
    {CD_ROW1(2), CD_ROW2(2)},
};

/* Columns a tile row takes: OW cut into near-equal runs of at most CD_PX pixels */
static inline int cd_run(Py_ssize_t OW)
{
    Py_ssize_t runs = (OW + CD_PX - 1) / CD_PX;
    return (int)((OW + runs - 1) / runs);
}

/* Rows r0..r1-1 of every padded plane of xp (C x PH x PW) from x (C x H x W), shifted by
   ph rows and pw columns, zeros around it (rows and columns past PH, PW left out). */
static void cd_pad_rows(const float* x, float* xp, Py_ssize_t C, Py_ssize_t H, Py_ssize_t W,
                        Py_ssize_t ph, Py_ssize_t pw, Py_ssize_t PH, Py_ssize_t PW,
                        Py_ssize_t r0, Py_ssize_t r1)
{
    Py_ssize_t n = W < PW - pw ? W : PW - pw;
    for (Py_ssize_t c = 0; c < C; c++) {
        for (Py_ssize_t r = r0; r < r1; r++) {
            float* row = xp + (c * PH + r) * PW;
            Py_ssize_t src = r - ph;
            if (src < 0 || src >= H || n <= 0) {
                memset(row, 0, PW * sizeof(float));
                continue;
            }
            for (Py_ssize_t j = 0; j < pw; j++) row[j] = 0.0f;
            memcpy(row + pw, x + (c * H + src) * W, n * sizeof(float));
            for (Py_ssize_t j = pw + n; j < PW; j++) row[j] = 0.0f;
        }
    }
}

/* One image: x its input planes (C x H x W), copied into the padded planes xp (C x PH x
   PW) whole before the first tile (whole) or a band of rows at a time just before the
   first tiles that read them (xp == NULL: x is read as it is, PH == H and PW == W); wp
   every packed block, out its output planes (M x OH x OW). Blocks of output channels are taken in groups of gblocks, whose packed
   weights stay in L2 while the group sweeps every pixel tile of the image. */
static void cd_image(const cd_geom* g, const float* x, Py_ssize_t H, Py_ssize_t W,
                     Py_ssize_t ph, Py_ssize_t pw, float* xp, const float* wp, float* out,
                     Py_ssize_t gblocks, int whole)
{
    const Py_ssize_t nb = (g->M + CD_CO - 1) / CD_CO, plane = g->PH * g->PW;
    const Py_ssize_t OHW = g->OH * g->OW;
    const int U = cd_run(g->OW);
    const int R2 = (2 * U <= CD_PX) ? 2 : 1;
    const int s = g->sw == 2;
    Py_ssize_t padded = 0;  /* rows of xp filled so far */
    const float* src = xp ? xp : x;
    for (Py_ssize_t b0 = 0; b0 < nb; b0 += gblocks) {
        Py_ssize_t b1 = b0 + gblocks < nb ? b0 + gblocks : nb;
        for (Py_ssize_t oh = 0; oh < g->OH; oh += R2) {
            int R = (oh + R2 <= g->OH) ? R2 : 1;
            if (xp) {
                Py_ssize_t need = (oh + R - 1) * g->sh + (g->kh - 1) * g->dh + 1;
                if (whole) need = g->PH;
                if (need > g->PH) need = g->PH;
                if (need > padded) {
                    cd_pad_rows(x, xp, g->C, H, W, ph, pw, g->PH, g->PW, padded, need);
                    padded = need;
                }
            }
            for (Py_ssize_t ow = 0; ow < g->OW; ow += U) {
                int u = (ow + U <= g->OW) ? U : (int)(g->OW - ow);
                cd_tile_fn f = cd_tiles[s][R - 1][u];
                const float* x0 = src + oh * g->sh * g->PW + ow * g->sw;
                for (Py_ssize_t b = b0; b < b1; b++) {
                    Py_ssize_t nco = g->M - b * CD_CO;
                    f(x0, g->sh * g->PW, wp + b * g->K * CD_CO, g, plane,
                      out + b * CD_CO * OHW + oh * g->OW + ow, OHW, g->OW,
                      nco < CD_CO ? (int)nco : CD_CO);
                }
            }
        }
    }
}
#else
#define CD_AVAILABLE 0
static void cd_pack_weights(const float* w, float* wp, Py_ssize_t M, Py_ssize_t K,
                            Py_ssize_t b0, Py_ssize_t b1)
{
    (void)w; (void)wp; (void)M; (void)K; (void)b0; (void)b1;
}
static void cd_image(const cd_geom* g, const float* x, Py_ssize_t H, Py_ssize_t W,
                     Py_ssize_t ph, Py_ssize_t pw, float* xp, const float* wp, float* out,
                     Py_ssize_t gblocks, int whole)
{
    (void)whole;
    (void)g; (void)x; (void)H; (void)W; (void)ph; (void)pw; (void)xp; (void)wp; (void)out;
    (void)gblocks;
}
#endif

#endif
