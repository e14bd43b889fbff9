// Buffers each thread keeps for the kernels' per-call scratch: a half-precision weight panel widened to F32 once
// for all the row tiles that use it (FV_SCRATCH_PANEL), and the GEMM's lists of the input columns each row tile
// needs (FV_SCRATCH_COLUMNS). Kept between calls so that the GEMM's inner loop never allocates; grown when a wider
// layer asks for more, and freed when the thread ends.
#include "dispatch.h"
#include <pthread.h>
#include <stdlib.h>

static pthread_key_t scratch_key[FV_SCRATCH_SLOTS];
static pthread_once_t scratch_key_once = PTHREAD_ONCE_INIT;
static _Thread_local void *scratch[FV_SCRATCH_SLOTS];
static _Thread_local long scratch_bytes[FV_SCRATCH_SLOTS];

static void make_scratch_keys(void) {
    for (int s = 0; s < FV_SCRATCH_SLOTS; s++) pthread_key_create(&scratch_key[s], free);
}

void *fv_thread_scratch(int slot, long bytes) {
    if (bytes <= scratch_bytes[slot]) return scratch[slot];
    pthread_once(&scratch_key_once, make_scratch_keys);
    long rounded = (bytes + 63) / 64 * 64;
    void *grown = aligned_alloc(64, (size_t)rounded);
    if (!grown) return 0;
    free(scratch[slot]);
    scratch[slot] = grown;
    scratch_bytes[slot] = bytes;
    pthread_setspecific(scratch_key[slot], grown);  // the key's destructor frees it when the thread ends
    return grown;
}
