// OpenBLAS's CBLAS interface plus its own extensions (openblas_get_num_threads, openblas_get_corename).
#include <cblas.h>
// LAPACK's symmetric eigensolver, which OpenBLAS exports (EigenCAM's projection onto the first principal component).
void ssyev_(const char *jobz, const char *uplo, const int *n, float *a, const int *lda, float *w, float *work,
            const int *lwork, int *info);
