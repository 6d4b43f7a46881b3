/* ssp_idx.h — IDX files (MNIST, Fashion-MNIST) and labelled image sets.
 *
 * Reads the IDX format (LeCun et al.), plain or gzip-compressed, and refuses
 * anything that is not exactly what its header says: wrong magic, an
 * unsupported element type, zero or absurd dimensions, a file shorter or
 * longer than its header implies. Every error names the file and the fault.
 * Only unsigned-byte data (type 0x08) is supported: the data sets in use
 * are all of that type. */
#ifndef SSP_IDX_H
#define SSP_IDX_H

#include <stddef.h>
#include <stdint.h>

#include "ssp_error.h"

enum { SSP_IDX_MAX_DIMS = 4 };

typedef struct ssp_idx {
    int ndim;                         /* number of dimensions, 1..4 */
    uint32_t dims[SSP_IDX_MAX_DIMS];  /* dims[0] = number of items */
    size_t count;                     /* dims[0] */
    size_t item_size;                 /* bytes per item: product of dims[1..] */
    unsigned char *data;              /* count * item_size bytes (owned) */
    uint32_t crc32;                   /* CRC-32 of the file's (decompressed) bytes */
} ssp_idx;

/* Load path; expect_ndim > 0 also requires that many dimensions. */
SSP_API int ssp_idx_load(ssp_idx **out, ssp_ctx *ctx, const char *path, int expect_ndim);
/* The same from len bytes in memory (decompressed); origin names them in
 * messages. ssp_idx_load reads the file and calls this. */
SSP_API int ssp_idx_parse(ssp_idx **out, ssp_ctx *ctx, const unsigned char *buf, size_t len, const char *origin,
                  int expect_ndim);
SSP_API void ssp_idx_free(ssp_idx **x);

/* Images with their labels, pixels scaled to [0, 1]. */
typedef struct ssp_dataset {
    size_t n;          /* number of examples */
    size_t rows, cols; /* image size */
    size_t dim;        /* rows * cols */
    int nclasses;      /* 1 + largest label kept (< the `classes` it was loaded for) */
    double *x;         /* n x dim pixels in [0, 1], row-major (owned) */
    unsigned char *y;  /* n labels (owned) */
    uint32_t images_crc32, labels_crc32; /* CRC-32 of the two files (ssp_idx.crc32) */
} ssp_dataset;

/* Load an image file (3 dimensions) and a label file (1 dimension) whose
 * counts must agree; keep the first `limit` examples (0: all). Every label
 * of the file must be below `classes` (the classes of the network that
 * will read them): the first that is not is refused (SSP_EFORMAT) naming
 * the file, its index and its value. */
SSP_API int ssp_dataset_load(ssp_dataset **out, ssp_ctx *ctx, const char *images, const char *labels, size_t limit,
                     int classes);
SSP_API void ssp_dataset_free(ssp_dataset **d);

/* Keep the first `limit` examples (0: all), average 2x2 blocks when
 * downsample is 2, keep the centre crop x crop pixels (0: all), and
 * threshold pixels at binarize (> 0) to 0 or 1. */
SSP_API int ssp_dataset_prepare(ssp_dataset *d, ssp_ctx *ctx, size_t limit, int downsample, size_t crop,
                        double binarize);

#endif
