// OpenBLAS's CBLAS interface plus its own extensions (openblas_get_num_threads, openblas_get_corename).
#include <cblas.h>
