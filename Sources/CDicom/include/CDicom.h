// A thin C interface over DCMTK for fracview: decode the first frame of a DICOM file (its bytes) to its modality values.
#pragma once
#include <stddef.h>

#ifdef __cplusplus
extern "C" {
#endif

#define CDICOM_MAX_WINDOWS 8

typedef struct {
    int width, height;
    /// Frames in the file (only the first is decoded).
    int frames;
    /// 1: MONOCHROME1 (shown inverted); 0: MONOCHROME2 or colour.
    int monochrome1;
    /// 1: a colour image (rgb set, values NULL).
    int color;
    /// Grey images: width*height modality values (stored value * Rescale Slope + Rescale Intercept).
    float *values;
    /// Colour images, and grey images with a VOI LUT: 8-bit RGB rendered by DCMTK at the file's first VOI LUT
    /// (or, for colour, as stored).
    unsigned char *rgb;
    /// The file's own windows (Window Center / Width), in modality units.
    int window_count;
    double window_center[CDICOM_MAX_WINDOWS];
    double window_width[CDICOM_MAX_WINDOWS];
    /// 1: the file has a VOI LUT Sequence; `rgb` then holds its rendering.
    int has_voi_lut;
    double min_value, max_value;
    int bits_stored;
    char transfer_syntax[128];
    char error[256];
} cdicom_image;

/// 1 when the bytes look like a DICOM file (the "DICM" preamble marker at 128).
int cdicom_is_dicom(const unsigned char *data, size_t size);

/// The most bytes a DICOM file may have (ImageDecoder.maxFileBytes, 256 MiB: the guarded loader's cap).
#define CDICOM_MAX_FILE_BYTES 268435456LL

/// Decodes the first frame of the DICOM file held in `data` (`size` bytes: the whole file, preamble included).
/// Returns 0 and fills `out`, or -1 with `out->error` set (one line). At most `max_pixels` pixels are accepted.
/// DCMTK reads the buffer in place and defers elements over 4 KiB (loaded from the buffer when used), so a length
/// field that claims more than the buffer holds fails the read instead of being allocated, as it does in a file.
/// No temporary file; `data` must stay valid until it returns.
int cdicom_decode_memory(const unsigned char *data, size_t size, long long max_pixels, cdicom_image *out);

/// The file at `path` (a regular file of at most CDICOM_MAX_FILE_BYTES), read whole and decoded as
/// cdicom_decode_memory decodes bytes; same result, same errors.
int cdicom_decode_file(const char *path, long long max_pixels, cdicom_image *out);

void cdicom_free(cdicom_image *image);

#ifdef __cplusplus
}
#endif
#include "CDicomFindings.h"
