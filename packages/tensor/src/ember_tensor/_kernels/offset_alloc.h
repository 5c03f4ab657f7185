/* Blocks whose data starts at a chosen offset in a page, and the NumPy allocation handler
   that frees and resizes them (fast_path.pyx: a big broadcast's result takes the page
   offset of its operand, so the float loops' aligned stores meet aligned loads).

   A block starts on a page: [its size, in a 64-byte header][pad][data at the wanted offset
   in its page]. free and realloc find the block's start from the data pointer (64 to 4159
   bytes past it) without asking malloc. Included after NumPy's arrayobject.h (fast_path
   cimports numpy first). */
#ifndef EMBER_OFFSET_ALLOC_H
#define EMBER_OFFSET_ALLOC_H
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#define EMBER_OFF_HEAD 64
#define EMBER_OFF_PAGE 4096

static void *ember_off_alloc(size_t size, size_t off) {
    char *base;
    size_t skip = EMBER_OFF_HEAD + ((off - EMBER_OFF_HEAD) & (EMBER_OFF_PAGE - 1));
    if (size > SIZE_MAX - 3 * EMBER_OFF_PAGE)
        return NULL;
    base = (char *)aligned_alloc(EMBER_OFF_PAGE, (size + skip + EMBER_OFF_PAGE - 1)
                                                 & ~(size_t)(EMBER_OFF_PAGE - 1));
    if (base == NULL)
        return NULL;
    *(size_t *)base = size;
    return base + skip;
}

static char *ember_off_base(void *p) {
    return (char *)(((uintptr_t)p - EMBER_OFF_HEAD) & ~(uintptr_t)(EMBER_OFF_PAGE - 1));
}

/* The handler's own malloc and calloc (NumPy calls them only where this handler is the
   current one, which Ember never sets): data right after the header. */
static void *ember_off_malloc(void *ctx, size_t size) {
    (void)ctx;
    return ember_off_alloc(size, EMBER_OFF_HEAD);
}

static void *ember_off_calloc(void *ctx, size_t nelem, size_t elsize) {
    void *p;
    (void)ctx;
    if (elsize && nelem > SIZE_MAX / elsize)
        return NULL;
    p = ember_off_alloc(nelem * elsize, EMBER_OFF_HEAD);
    if (p)
        memset(p, 0, nelem * elsize);
    return p;
}

static void ember_off_free(void *ctx, void *p, size_t size) {
    (void)ctx; (void)size;
    if (p)
        free(ember_off_base(p));
}

/* A resized block keeps its data's offset in the page */
static void *ember_off_realloc(void *ctx, void *p, size_t n) {
    char *base, *q;
    size_t old;
    (void)ctx;
    if (p == NULL)
        return ember_off_alloc(n, EMBER_OFF_HEAD);
    base = ember_off_base(p);
    old = *(size_t *)base;
    q = (char *)ember_off_alloc(n, (size_t)((char *)p - base));
    if (q == NULL)
        return NULL;
    memcpy(q, p, n < old ? n : old);
    free(base);
    return q;
}

static PyDataMem_Handler ember_off_handler = {
    "ember_line_offset_allocator", 1,
    {NULL, ember_off_malloc, ember_off_calloc, ember_off_realloc, ember_off_free}};

/* Hand a block of ember_off_alloc's to an array made over it: the array owns it and frees
   or resizes it through the handler, as if the handler had allocated it. */
static void ember_off_adopt(PyArrayObject *arr, PyObject *handler) {
    Py_INCREF(handler);
    ((PyArrayObject_fields *)arr)->mem_handler = handler;
    PyArray_ENABLEFLAGS(arr, NPY_ARRAY_OWNDATA);
}

static PyObject *ember_off_capsule(void) {
#if defined(_WIN32)  /* no aligned_alloc/free pair: NumPy's own allocation */
    Py_RETURN_NONE;
#else
    return PyCapsule_New(&ember_off_handler, "mem_handler", NULL);
#endif
}
#endif
