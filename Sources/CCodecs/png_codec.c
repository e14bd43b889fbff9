// PNG decoding and encoding through libpng. Colour conversion follows PIL's convert("RGB"):
// gray is replicated, alpha (and tRNS transparency) is dropped rather than composited,
// palettes are looked up, 1/2/4-bit gray is scaled to 0…255 and 16-bit samples keep their high byte.
#include "CCodecs.h"

#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <png.h>

/// Where libpng's error callback leaves its message before jumping back to our setjmp.
struct error_sink {
    char *message;
    size_t capacity;
};

static void record_error_and_jump(png_structp png, png_const_charp message) {
    struct error_sink *sink = (struct error_sink *)png_get_error_ptr(png);
    if (sink && sink->message) snprintf(sink->message, sink->capacity, "%s", message);
    png_longjmp(png, 1);
}

static void ignore_warning(png_structp png, png_const_charp message) { (void)png; (void)message; }

struct memory_reader {
    const unsigned char *data;
    size_t size;
    size_t offset;
};

static void read_from_memory(png_structp png, png_bytep dest, size_t length) {
    struct memory_reader *reader = (struct memory_reader *)png_get_io_ptr(png);
    if (length > reader->size - reader->offset) png_error(png, "truncated PNG (the data ends early)");
    memcpy(dest, reader->data + reader->offset, length);
    reader->offset += length;
}

static const char *color_type_name(int color_type) {
    switch (color_type) {
    case PNG_COLOR_TYPE_GRAY: return "gray";
    case PNG_COLOR_TYPE_GRAY_ALPHA: return "gray+alpha";
    case PNG_COLOR_TYPE_PALETTE: return "palette";
    case PNG_COLOR_TYPE_RGB: return "RGB";
    case PNG_COLOR_TYPE_RGB_ALPHA: return "RGBA";
    default: return "unknown colour type";
    }
}

static int run_decoder(const unsigned char *data, size_t size, long long max_pixels, int header_only,
                       ccodecs_image *out) {
    memset(out, 0, sizeof(*out));
    if (size < 8 || png_sig_cmp(data, 0, 8) != 0) {
        snprintf(out->error, sizeof(out->error), size == 0 ? "empty file" : "not a PNG file (bad signature)");
        return -1;
    }
    char message[160] = "";
    struct error_sink sink = {message, sizeof(message)};
    png_structp png = png_create_read_struct(PNG_LIBPNG_VER_STRING, &sink, record_error_and_jump, ignore_warning);
    if (!png) {
        snprintf(out->error, sizeof(out->error), "libpng could not start");
        return -1;
    }
    png_infop info = png_create_info_struct(png);
    unsigned char *volatile pixels = NULL;
    png_bytep *volatile rows = NULL;
    struct memory_reader reader = {data, size, 0};

    if (setjmp(png_jmpbuf(png))) {
        if (strncmp(message, "truncated", 9) == 0) {
            snprintf(out->error, sizeof(out->error), "%s", message);
        } else {
            snprintf(out->error, sizeof(out->error), "corrupt PNG: %s", message);
        }
        png_destroy_read_struct(&png, info ? &info : NULL, NULL);
        free(pixels);
        free(rows);
        return -1;
    }
    if (!info) png_error(png, "out of memory");
    png_set_read_fn(png, &reader, read_from_memory);
    // Ancillary-chunk CRC errors are warnings in libpng; PIL also reads past them.
    png_read_info(png, info);

    png_uint_32 width = png_get_image_width(png, info), height = png_get_image_height(png, info);
    int bit_depth = png_get_bit_depth(png, info);
    int color_type = png_get_color_type(png, info);
    out->width = (int)width;
    out->height = (int)height;
    snprintf(out->kind, sizeof(out->kind), "PNG %s %d-bit", color_type_name(color_type), bit_depth);
    if (header_only) {
        png_destroy_read_struct(&png, &info, NULL);
        return 0;
    }
    if ((long long)width * (long long)height > max_pixels) {
        snprintf(out->error, sizeof(out->error), "image too large: %ux%u pixels (limit %lld)",
                 width, height, max_pixels);
        png_destroy_read_struct(&png, &info, NULL);
        return -1;
    }

    if (bit_depth == 16) png_set_strip_16(png);             // high byte, like PIL's "RGB;16B" unpacker
    if (color_type == PNG_COLOR_TYPE_PALETTE) png_set_palette_to_rgb(png);
    if (color_type == PNG_COLOR_TYPE_GRAY && bit_depth < 8) png_set_expand_gray_1_2_4_to_8(png);
    if (color_type == PNG_COLOR_TYPE_GRAY || color_type == PNG_COLOR_TYPE_GRAY_ALPHA) png_set_gray_to_rgb(png);
    // palette_to_rgb turns tRNS into an alpha channel; PIL's convert("RGB") ignores transparency.
    png_set_strip_alpha(png);
    png_set_interlace_handling(png);
    png_read_update_info(png, info);

    size_t rowbytes = png_get_rowbytes(png, info);
    if (rowbytes != (size_t)width * 3) png_error(png, "unexpected row layout after conversion");
    pixels = malloc(rowbytes * height);
    rows = malloc(sizeof(png_bytep) * height);
    if (!pixels || !rows) png_error(png, "out of memory");
    for (png_uint_32 y = 0; y < height; y++) rows[y] = pixels + (size_t)y * rowbytes;
    png_read_image(png, rows);
    // The IEND chunk is not read: a file cut after its last IDAT still has every pixel (PIL reads it too).
    png_destroy_read_struct(&png, &info, NULL);
    free(rows);
    out->pixels = pixels;
    return 0;
}

int ccodecs_decode_png(const unsigned char *data, size_t size, long long max_pixels, ccodecs_image *out) {
    return run_decoder(data, size, max_pixels, 0, out);
}

struct memory_writer {
    unsigned char *data;
    size_t size;
    size_t capacity;
    int failed;
};

static void write_to_memory(png_structp png, png_bytep source, size_t length) {
    struct memory_writer *writer = (struct memory_writer *)png_get_io_ptr(png);
    if (writer->size + length > writer->capacity) {
        size_t capacity = writer->capacity ? writer->capacity : 4096;
        while (capacity < writer->size + length) capacity *= 2;
        unsigned char *grown = realloc(writer->data, capacity);
        if (!grown) png_error(png, "out of memory");
        writer->data = grown;
        writer->capacity = capacity;
    }
    memcpy(writer->data + writer->size, source, length);
    writer->size += length;
}

static void flush_nothing(png_structp png) { (void)png; }

int ccodecs_encode_png(const unsigned char *rgb, int width, int height, int compression_level,
                       unsigned char **out, size_t *out_size, char *error, size_t error_size) {
    return ccodecs_encode_png_channels(rgb, width, height, 3, compression_level, out, out_size, error, error_size);
}

int ccodecs_encode_png_channels(const unsigned char *rgb, int width, int height, int channels, int compression_level,
                                unsigned char **out, size_t *out_size, char *error, size_t error_size) {
    *out = NULL;
    *out_size = 0;
    if (width <= 0 || height <= 0) {
        snprintf(error, error_size, "cannot encode an empty image (%dx%d)", width, height);
        return -1;
    }
    struct error_sink sink = {error, error_size};
    png_structp png = png_create_write_struct(PNG_LIBPNG_VER_STRING, &sink, record_error_and_jump, ignore_warning);
    if (!png) {
        snprintf(error, error_size, "libpng could not start");
        return -1;
    }
    png_infop info = png_create_info_struct(png);
    struct memory_writer writer = {NULL, 0, 0, 0};
    png_bytep *volatile rows = NULL;
    if (setjmp(png_jmpbuf(png))) {
        png_destroy_write_struct(&png, info ? &info : NULL);
        free(writer.data);
        free(rows);
        return -1;
    }
    if (!info) png_error(png, "out of memory");
    png_set_write_fn(png, &writer, write_to_memory, flush_nothing);
    png_set_compression_level(png, compression_level);
    png_set_IHDR(png, info, (png_uint_32)width, (png_uint_32)height, 8,
                 channels == 1 ? PNG_COLOR_TYPE_GRAY : PNG_COLOR_TYPE_RGB, PNG_INTERLACE_NONE,
                 PNG_COMPRESSION_TYPE_DEFAULT, PNG_FILTER_TYPE_DEFAULT);
    rows = malloc(sizeof(png_bytep) * (size_t)height);
    if (!rows) png_error(png, "out of memory");
    for (int y = 0; y < height; y++) rows[y] = (png_bytep)(rgb + (size_t)y * (size_t)width * (size_t)channels);
    png_set_rows(png, info, rows);
    png_write_png(png, info, PNG_TRANSFORM_IDENTITY, NULL);
    png_destroy_write_struct(&png, &info);
    free(rows);
    *out = writer.data;
    *out_size = writer.size;
    return 0;
}
