// How the process's allocator hands memory back. glibc raises its mmap threshold every time a large block is freed
// (up to 32 MB), so after the first decoded image is freed, every later image, input tensor and crop comes from
// the heap or a thread's arena instead, and the holes they leave stay resident: the review process peaked 20 MB
// higher for it. A fixed threshold keeps large blocks on mmap, returned the moment they are freed.
#include "CEngineKernels.h"
#include <malloc.h>
#include <stdlib.h>

int fv_fix_mmap_threshold(long bytes) {
    if (getenv("MALLOC_MMAP_THRESHOLD_")) return 0;  // the user's own setting wins
    return mallopt(M_MMAP_THRESHOLD, (int)bytes);
}
