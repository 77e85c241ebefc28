/* Fuzz target for the sharded model manifest (docs/SCALE.md, "Files").
 *
 * Every input is parsed as it is. Since the CRC-32 check turns away almost
 * every mutation of a valid manifest, an input whose first byte is odd is
 * also parsed a second time without that byte and with its last four bytes
 * replaced by the CRC-32 of what precedes them, so that the parser behind the
 * checksum sees the mutations (seeds for that path: corpus/manifest/crc-*).
 *
 * A manifest that parses must serialise to bytes that parse again and
 * serialise to the same bytes; its shard records must export and import
 * into the handle unchanged. The input is also loaded from a file (scratch.h),
 * holding no shard: it must load exactly when the buffer parses. Anything
 * else aborts, which is how a fuzzer reports it. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

#include "scratch.h"
#include "sharded.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check_round_trip(fnn_sharded *s)
{
    uint8_t *a = NULL, *b = NULL;
    size_t alen = 0, blen = 0;
    fnn_sharded *again = NULL;
    char err[FNN__ERRMSG_SIZE];

    if (fnn__sharded_serialize(s, &a, &alen) != FNN_OK)
        abort();
    if (fnn_sharded_load_manifest_buffer(&again, a, alen, err, sizeof err) != FNN_OK)
        abort();
    /* Every record goes out and back in (the shards are not held). */
    for (uint32_t k = 0; k < fnn_sharded_num_shards(again); k++) {
        size_t need = 0;
        if (fnn_sharded_shard_export(again, k, NULL, 0, &need) != FNN_OK)
            abort();
        uint8_t *rec = malloc(need);
        if (!rec || fnn_sharded_shard_export(again, k, rec, need, &need) != FNN_OK ||
            fnn_sharded_shard_import(again, rec, need) != FNN_OK)
            abort();
        free(rec);
    }
    if (fnn__sharded_serialize(again, &b, &blen) != FNN_OK)
        abort();
    if (alen != blen || memcmp(a, b, alen) != 0)
        abort();
    free(a);
    free(b);
    fnn_sharded_free(again);
}

static void load_one(const uint8_t *data, size_t size)
{
    fnn_sharded *s = NULL, *f = NULL;
    char err[FNN__ERRMSG_SIZE];
    int rc = fnn_sharded_load_manifest_buffer(&s, data, size, err, sizeof err);

    if (rc == FNN_OK) {
        if (!s)
            abort();
        check_round_trip(s);
    } else if (s != NULL || err[0] == '\0') {
        abort(); /* failures leave no handle and always say why */
    }
    const char *path = scratch_file(data, size);
    if (path) {
        int frc = fnn_sharded_load(&f, path, 0, err, sizeof err);
        if ((frc == FNN_OK) != (rc == FNN_OK) || (frc == FNN_OK) != (f != NULL) ||
            (frc != FNN_OK && err[0] == '\0'))
            abort();
        fnn_sharded_free(f);
    }
    fnn_sharded_free(s);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    /* Every check of a training set's size runs the same below a lower cap,
     * and a load costs milliseconds instead of seconds (lib/sharded.h). */
    fnn__sharded_max_samples = (size_t)1 << 20;
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
