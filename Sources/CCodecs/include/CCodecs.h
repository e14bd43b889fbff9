// C shims around libjpeg and libpng. Both libraries report fatal errors by longjmp (libjpeg's default
// handler even calls exit()), which Swift cannot survive, so every call into them happens here, under
// setjmp, and failures come back as a return code plus a one-line message.
#pragma once
#include <stddef.h>

/// A decoded image: 8-bit RGB, interleaved, row-major. `pixels` is malloc'ed; free it with ccodecs_free.
typedef struct {
    unsigned char *pixels;
    int width;
    int height;
    /// What the file held, for messages ("JPEG gray", "PNG palette 4-bit" ...).
    char kind[48];
    /// Set when the call fails: one line, no trailing newline.
    char error[200];
} ccodecs_image;

/// Decodes a baseline/progressive JPEG (gray, YCbCr/RGB, CMYK/YCCK) to RGB.
/// Images with more than `max_pixels` pixels are refused after reading the header, before decoding.
/// Returns 0 on success, -1 on failure (out->error says why; out->pixels is NULL).
int ccodecs_decode_jpeg(const unsigned char *data, size_t size, long long max_pixels, ccodecs_image *out);

/// Decodes a PNG of any colour type and bit depth to RGB (alpha dropped, 16-bit reduced to the high byte).
int ccodecs_decode_png(const unsigned char *data, size_t size, long long max_pixels, ccodecs_image *out);

/// Encodes 8-bit RGB (width*height*3 bytes) as PNG into a malloc'ed buffer (*out, *out_size).
/// Returns 0 on success, -1 on failure with a message in `error` (error_size bytes).
int ccodecs_encode_png(const unsigned char *rgb, int width, int height, int compression_level,
                       unsigned char **out, size_t *out_size, char *error, size_t error_size);

/// The same for `channels` 1 (8-bit grey) or 3 (8-bit RGB).
int ccodecs_encode_png_channels(const unsigned char *pixels, int width, int height, int channels, int compression_level,
                                unsigned char **out, size_t *out_size, char *error, size_t error_size);

void ccodecs_free(void *pointer);
