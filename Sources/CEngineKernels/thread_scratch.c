// A buffer each thread keeps for the kernels' per-call scratch (today: a half-precision weight panel widened to
// F32 once for all the row tiles that use it). Kept between calls so that the GEMM's inner loop never allocates;
// grown when a wider layer asks for more, and freed when the thread ends.
#include "dispatch.h"
#include <pthread.h>
#include <stdlib.h>

static pthread_key_t scratch_key;
static pthread_once_t scratch_key_once = PTHREAD_ONCE_INIT;
static _Thread_local float *scratch;
static _Thread_local long scratch_floats;

static void make_scratch_key(void) { pthread_key_create(&scratch_key, free); }

float *fv_thread_scratch(long floats) {
    if (floats <= scratch_floats) return scratch;
    pthread_once(&scratch_key_once, make_scratch_key);
    long bytes = (floats * (long)sizeof(float) + 63) / 64 * 64;
    float *grown = aligned_alloc(64, (size_t)bytes);
    if (!grown) return 0;
    free(scratch);
    scratch = grown;
    scratch_floats = floats;
    pthread_setspecific(scratch_key, grown);  // the key's destructor frees it when the thread ends
    return grown;
}
