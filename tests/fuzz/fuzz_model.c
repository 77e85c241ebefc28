/* Fuzz target for the model file loader (docs/FORMAT.md).
 *
 * Every input is loaded as it is. Since the CRC-32 check turns away almost
 * every mutation of a valid file, an input whose first byte is odd is also
 * loaded a second time without that byte and with its last four bytes
 * replaced by the CRC-32 of what precedes them: the parser behind the checksum
 * then sees the mutations. Seeds for that path are valid or corrupt files
 * behind one odd byte (tests/fuzz/corpus/model/crc-*).
 *
 * A model that loads must serialise to a file that loads again and serialises
 * to the same bytes. The input is also loaded from a file, whose structure
 * fnn_model_load() checks before reading it whole: the file must load exactly
 * when the buffer does, to the same model, and may fail otherwise only where
 * the buffer fails too. Anything else aborts, which is how a fuzzer reports
 * it. The file is scratch.h's scratch file. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <zlib.h>

#include "internal.h"
#include "scratch.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check_round_trip(fnn_model *m)
{
    uint8_t *a = NULL, *b = NULL;
    size_t alen = 0, blen = 0;
    fnn_model *again = NULL;
    char err[FNN__ERRMSG_SIZE];

    if (fnn__model_serialize(m, &a, &alen) != FNN_OK)
        abort();
    if (fnn_model_load_buffer(&again, a, alen, err, sizeof err) != FNN_OK)
        abort();
    if (fnn__model_serialize(again, &b, &blen) != FNN_OK)
        abort();
    if (alen != blen || memcmp(a, b, alen) != 0)
        abort();
    free(a);
    free(b);
    fnn_model_free(again);
}

/* The same model: same serialised bytes. */
static void check_same(fnn_model *a, fnn_model *b)
{
    uint8_t *x = NULL, *y = NULL;
    size_t xl = 0, yl = 0;
    if (fnn__model_serialize(a, &x, &xl) != FNN_OK ||
        fnn__model_serialize(b, &y, &yl) != FNN_OK || xl != yl || memcmp(x, y, xl) != 0)
        abort();
    free(x);
    free(y);
}

static void load_one(const uint8_t *data, size_t size)
{
    fnn_model *m = NULL, *f = NULL;
    char err[FNN__ERRMSG_SIZE];
    int rc = fnn_model_load_buffer(&m, data, size, err, sizeof err);

    if (rc == FNN_OK) {
        if (!m)
            abort();
        check_round_trip(m);
    } else if (m != NULL || err[0] == '\0') {
        abort(); /* failures leave no model and always say why */
    }

    const char *path = scratch_file(data, size);
    if (path) {
        int frc = fnn_model_load(&f, path, err, sizeof err);
        if ((frc == FNN_OK) != (rc == FNN_OK) || (frc == FNN_OK) != (f != NULL) ||
            (frc != FNN_OK && err[0] == '\0'))
            abort();
        if (f)
            check_same(m, f);
        fnn_model_free(f);
    }
    fnn_model_free(m);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    load_one(data, size);
    if (size >= 1 && (data[0] & 1)) {
        size_t n = size - 1;
        uint8_t *copy = malloc(n ? n : 1);
        if (!copy)
            return 0;
        memcpy(copy, data + 1, n);
        if (n >= 4 && n - 4 <= UINT32_MAX) {
            uLong crc = crc32(0L, copy, (uInt)(n - 4));
            for (int i = 0; i < 4; i++)
                copy[n - 4 + (size_t)i] = (uint8_t)(crc >> (8 * i));
        }
        load_one(copy, n);
        free(copy);
    }
    return 0;
}
