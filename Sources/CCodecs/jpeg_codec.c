// JPEG decoding through libjpeg(-turbo), with PIL's defaults (ISLOW IDCT, fancy upsampling) so the pixels
// match what PIL's Image.open(...).convert("RGB") gives for the same file.
#include "CCodecs.h"

#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jpeglib.h>
#include <jerror.h>

/// libjpeg's error manager, extended with the jump target that replaces its exit() on fatal errors.
struct guarded_error_mgr {
    struct jpeg_error_mgr base;
    jmp_buf jump;
    int truncated;
};

static void jump_on_error(j_common_ptr cinfo) {
    struct guarded_error_mgr *mgr = (struct guarded_error_mgr *)cinfo->err;
    longjmp(mgr->jump, 1);
}

/// Warnings are silent, but running out of data is an error for us (PIL: "image file is truncated").
static void note_warning(j_common_ptr cinfo, int level) {
    struct guarded_error_mgr *mgr = (struct guarded_error_mgr *)cinfo->err;
    if (level < 0 && cinfo->err->msg_code == JWRN_JPEG_EOF) mgr->truncated = 1;
}

static void silent_output(j_common_ptr cinfo) { (void)cinfo; }

static const char *color_space_name(J_COLOR_SPACE space) {
    switch (space) {
    case JCS_GRAYSCALE: return "gray";
    case JCS_RGB: return "RGB";
    case JCS_YCbCr: return "YCbCr";
    case JCS_CMYK: return "CMYK";
    case JCS_YCCK: return "YCCK";
    default: return "unknown colour space";
    }
}

/// PIL's CMYK → RGB (Convert.c cmyk2rgb): r = (255 − k) − c·(255 − k)/255, rounded the same integer way.
static unsigned char cmyk_channel(int c, int k) {
    int nk = 255 - k;
    int t = c * nk + 128;
    int v = nk - (((t >> 8) + t) >> 8);
    return (unsigned char)(v < 0 ? 0 : (v > 255 ? 255 : v));
}

static int run_decoder(const unsigned char *data, size_t size, long long max_pixels, int header_only,
                       ccodecs_image *out) {
    struct jpeg_decompress_struct cinfo;
    struct guarded_error_mgr err;
    // Written after setjmp and read after longjmp, hence volatile.
    unsigned char *volatile pixels = NULL;
    unsigned char *volatile row = NULL;

    memset(out, 0, sizeof(*out));
    cinfo.err = jpeg_std_error(&err.base);
    err.base.error_exit = jump_on_error;
    err.base.emit_message = note_warning;
    err.base.output_message = silent_output;
    err.truncated = 0;

    if (setjmp(err.jump)) {
        char message[JMSG_LENGTH_MAX];
        (*cinfo.err->format_message)((j_common_ptr)&cinfo, message);
        snprintf(out->error, sizeof(out->error), "corrupt JPEG: %s", message);
        jpeg_destroy_decompress(&cinfo);
        free(pixels);
        free(row);
        return -1;
    }
    jpeg_create_decompress(&cinfo);
    if (size == 0) {
        snprintf(out->error, sizeof(out->error), "empty file");
        jpeg_destroy_decompress(&cinfo);
        return -1;
    }
    jpeg_mem_src(&cinfo, data, (unsigned long)size);
    jpeg_read_header(&cinfo, TRUE);
    if (err.truncated) {
        snprintf(out->error, sizeof(out->error), "truncated JPEG (the data ends inside the header)");
        jpeg_destroy_decompress(&cinfo);
        return -1;
    }

    out->width = (int)cinfo.image_width;
    out->height = (int)cinfo.image_height;
    snprintf(out->kind, sizeof(out->kind), "JPEG %s", color_space_name(cinfo.jpeg_color_space));
    if (header_only) {
        jpeg_destroy_decompress(&cinfo);
        return 0;
    }
    long long count = (long long)cinfo.image_width * (long long)cinfo.image_height;
    if (count > max_pixels) {
        snprintf(out->error, sizeof(out->error), "image too large: %ux%u pixels (limit %lld)",
                 cinfo.image_width, cinfo.image_height, max_pixels);
        jpeg_destroy_decompress(&cinfo);
        return -1;
    }

    switch (cinfo.jpeg_color_space) {
    case JCS_GRAYSCALE: cinfo.out_color_space = JCS_GRAYSCALE; break;
    case JCS_CMYK:
    case JCS_YCCK: cinfo.out_color_space = JCS_CMYK; break;
    default: cinfo.out_color_space = JCS_RGB; break;
    }
    // PIL's decoder keeps libjpeg's defaults; state them so a changed library default can't surprise us.
    cinfo.dct_method = JDCT_ISLOW;
    cinfo.do_fancy_upsampling = TRUE;

    jpeg_start_decompress(&cinfo);
    int width = (int)cinfo.output_width, height = (int)cinfo.output_height;
    int components = cinfo.output_components;
    pixels = malloc((size_t)width * (size_t)height * 3);
    row = malloc((size_t)width * (size_t)components);
    if (!pixels || !row) {
        snprintf(out->error, sizeof(out->error), "out of memory for a %dx%d image", width, height);
        free(pixels);
        free(row);
        jpeg_destroy_decompress(&cinfo);
        return -1;
    }
    // PIL reads Adobe CMYK JPEGs as inverted CMYK ("CMYK;I").
    int inverted = cinfo.saw_Adobe_marker;
    while (cinfo.output_scanline < cinfo.output_height) {
        JSAMPROW rows[1] = {row};
        int y = (int)cinfo.output_scanline;
        if (jpeg_read_scanlines(&cinfo, rows, 1) != 1) break;
        unsigned char *dst = pixels + (size_t)y * (size_t)width * 3;
        if (components == 1) {
            for (int x = 0; x < width; x++) dst[3 * x] = dst[3 * x + 1] = dst[3 * x + 2] = row[x];
        } else if (components == 3) {
            memcpy(dst, row, (size_t)width * 3);
        } else {
            for (int x = 0; x < width; x++) {
                int c = row[4 * x], m = row[4 * x + 1], yy = row[4 * x + 2], k = row[4 * x + 3];
                if (inverted) { c = 255 - c; m = 255 - m; yy = 255 - yy; k = 255 - k; }
                dst[3 * x] = cmyk_channel(c, k);
                dst[3 * x + 1] = cmyk_channel(m, k);
                dst[3 * x + 2] = cmyk_channel(yy, k);
            }
        }
        if (err.truncated) break;
    }
    if (err.truncated || cinfo.output_scanline < cinfo.output_height) {
        snprintf(out->error, sizeof(out->error), "truncated JPEG (the data ends at row %u of %u)",
                 cinfo.output_scanline, cinfo.output_height);
        free(pixels);
        free(row);
        jpeg_destroy_decompress(&cinfo);
        return -1;
    }
    jpeg_finish_decompress(&cinfo);
    jpeg_destroy_decompress(&cinfo);
    free(row);
    out->pixels = pixels;
    out->width = width;
    out->height = height;
    return 0;
}

int ccodecs_decode_jpeg(const unsigned char *data, size_t size, long long max_pixels, ccodecs_image *out) {
    return run_decoder(data, size, max_pixels, 0, out);
}

void ccodecs_free(void *pointer) { free(pointer); }
