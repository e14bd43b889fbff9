// DCMTK behind a C interface: parse a file's bytes in memory, decompress (JPEG baseline/extended/lossless, JPEG-LS,
// RLE), and hand back the first frame's modality values, the file's windows and its photometric interpretation.
#include "CDicom.h"

#include <dcmtk/config/osconfig.h>
#include <dcmtk/dcmdata/dctk.h>
#include <dcmtk/dcmdata/dcistrmb.h>
#include <dcmtk/dcmdata/dcpixseq.h>
#include <dcmtk/dcmdata/dcpxitem.h>
#include <dcmtk/dcmdata/dcrledrg.h>
#include <dcmtk/dcmimgle/dcmimage.h>
#include <dcmtk/dcmimage/diregist.h>  // registers dcmimage's colour models (RGB, YBR, palette) with DicomImage
#include <dcmtk/dcmjpeg/djdecode.h>
#include <dcmtk/dcmjpls/djdecode.h>
#include <dcmtk/oflog/oflog.h>

#include <cmath>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <mutex>
#include <string>
#include <utility>
#include <vector>

#include <cerrno>

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

namespace {

std::once_flag registered;

void registerCodecs() {
    std::call_once(registered, [] {
        // DCMTK logs to stderr by default; fracview reports its own one-line errors.
        OFLog::configure(OFLogger::FATAL_LOG_LEVEL);
        DJDecoderRegistration::registerCodecs();
        DJLSDecoderRegistration::registerCodecs();
        DcmRLEDecoderRegistration::registerCodecs();
    });
}

int fail(cdicom_image *out, const std::string &message) {
    std::string line = message;
    for (char &c : line) if (c == '\n' || c == '\r') c = ' ';
    std::snprintf(out->error, sizeof out->error, "%s", line.c_str());
    return -1;
}

/// DCMTK 3.6.7's DJCodecDecoder::scanJpegDataForBitDepth walks the JPEG markers of a fragment to find the
/// frame header, and never moves past a TEM marker (FF 01): it spins forever (found by the DICOM fuzzer). This
/// walks the same way and says whether DCMTK would reach one, so such data is refused before it is decoded.
bool jpegScanWouldHang(const Uint8 *data, Uint32 length) {
    Uint32 offset = 0;
    while (offset + 4 < length) {
        const unsigned marker = (static_cast<unsigned>(data[offset]) << 8) | data[offset + 1];
        if (marker == 0xff01) return true;
        const bool sof = marker >= 0xffc0 && marker <= 0xffcf && marker != 0xffc4 && marker != 0xffc8 && marker != 0xffcc;
        if (sof) return false;
        if ((marker >= 0xffd0 && marker <= 0xffd9)) {
            offset += 2;  // RSTn, SOI, EOI: no length
        } else if (data[offset] == 0xff && data[offset + 1] != 0x00 && data[offset + 1] != 0xff) {
            offset += 2 + ((static_cast<Uint32>(data[offset + 2]) << 8) | data[offset + 3]);
        } else {
            offset += 1;
        }
    }
    return false;
}

/// True when a fragment of the (JPEG-encapsulated) pixel data would make DCMTK's JPEG decoder spin.
bool jpegFragmentsWouldHang(DcmDataset *dataset, E_TransferSyntax xfer) {
    DcmElement *element = nullptr;
    if (dataset->findAndGetElement(DCM_PixelData, element).bad() || element == nullptr) return false;
    DcmPixelData *pixels = OFstatic_cast(DcmPixelData *, element);
    DcmPixelSequence *sequence = nullptr;
    if (pixels->getEncapsulatedRepresentation(xfer, nullptr, sequence).bad() || sequence == nullptr) return false;
    for (unsigned long i = 1; i < sequence->card(); i++) {  // item 0 is the offset table
        DcmPixelItem *item = nullptr;
        Uint8 *fragment = nullptr;
        if (sequence->getItem(item, i).good() && item != nullptr && item->getUint8Array(fragment).good() &&
            fragment != nullptr && jpegScanWouldHang(fragment, item->getLength())) {
            return true;
        }
    }
    return false;
}

/// An explicit VR whose element has a 4-byte length after two reserved bytes (PS3.5 7.1.2); the others have a
/// 2-byte length.
bool longFormVR(const unsigned char *vr) {
    static const char *const longForms[] = {"OB", "OD", "OF", "OL", "OV", "OW", "SQ", "SV", "UC", "UN", "UR", "UT", "UV"};
    for (const char *v : longForms) {
        if (vr[0] == v[0] && vr[1] == v[1]) return true;
    }
    return false;
}

/// How deep the data set's sequences nest, counted from the raw bytes without DCMTK (which parses nested sequences
/// recursively: 10,000 levels overflowed its stack; issue #26 §2). A sequence or an item opens a level; a delimiter
/// or the end of a defined length closes it. In implicit VR a defined-length value that starts with an item tag is
/// a sequence too. Returns true as soon as the depth passes `limit`.
bool nestingExceeds(const unsigned char *data, size_t size, bool explicitVR, bool bigEndian, int limit) {
    auto u16 = [&](size_t at, bool be) -> uint32_t {
        return be ? (uint32_t(data[at]) << 8 | data[at + 1]) : (uint32_t(data[at + 1]) << 8 | data[at]);
    };
    auto u32 = [&](size_t at, bool be) -> uint32_t {
        return be ? (uint32_t(data[at]) << 24 | uint32_t(data[at + 1]) << 16 | uint32_t(data[at + 2]) << 8 | data[at + 3])
                  : (uint32_t(data[at + 3]) << 24 | uint32_t(data[at + 2]) << 16 | uint32_t(data[at + 1]) << 8 | data[at]);
    };
    // The meta header (group 0002, explicit VR little endian) after the preamble.
    size_t pos = 132;
    while (pos + 8 <= size && u16(pos, false) == 0x0002) {
        const bool longForm = longFormVR(data + pos + 4);
        const uint64_t length = longForm ? (pos + 12 <= size ? u32(pos + 8, false) : 0) : u16(pos + 6, false);
        pos += (longForm ? 12 : 8) + length;
    }
    std::vector<uint64_t> ends;  // the end of each open defined-length sequence or item
    int depth = 0;
    while (pos + 8 <= size) {
        while (!ends.empty() && pos >= ends.back()) { ends.pop_back(); depth--; }
        const uint32_t group = u16(pos, bigEndian), element = u16(pos + 2, bigEndian);
        if (group == 0xFFFE) {
            const uint32_t length = u32(pos + 4, bigEndian);
            pos += 8;
            if (element == 0xE000) {
                if (++depth > limit) return true;
                if (length != 0xFFFFFFFFu) ends.push_back(pos + length);
            } else if (element == 0xE00D || element == 0xE0DD) {
                depth--;
            }
            continue;
        }
        uint64_t header = 8, length = 0;
        bool sequence = false;
        if (explicitVR) {
            const bool longForm = longFormVR(data + pos + 4);
            sequence = data[pos + 4] == 'S' && data[pos + 5] == 'Q';
            if (longForm) {
                if (pos + 12 > size) break;
                header = 12;
                length = u32(pos + 8, bigEndian);
            } else {
                length = u16(pos + 6, bigEndian);
            }
        } else {
            length = u32(pos + 4, bigEndian);
            sequence = length != 0xFFFFFFFFu && length >= 8 && pos + 12 <= size && u16(pos + 8, bigEndian) == 0xFFFE &&
                       u16(pos + 10, bigEndian) == 0xE000;
        }
        if (length == 0xFFFFFFFFu) {  // an undefined-length sequence (or encapsulated pixel data): its items follow
            if (++depth > limit) return true;
            pos += header;
            continue;
        }
        if (sequence) {
            if (++depth > limit) return true;
            ends.push_back(pos + header + length);
            pos += header;
            continue;
        }
        pos += header + length;
    }
    return false;
}

/// The deepest nesting a data set may have, in sequences (each sequence level is a sequence and an item, two
/// levels of the scan). Real objects nest a few levels (structured reports a few tens).
constexpr int kMaxSequenceNesting = 128;

/// The whole file as a DcmInputBufferStream (the end of the buffer is the end of the file) that, unlike DCMTK's,
/// can defer elements over DCM_MaxReadLength (4 KiB) the way a file stream does: it skips them and loads them from
/// the buffer when they are used. Without that, DCMTK allocates every length field's claim before it reads a
/// byte of the value (the DICOM fuzzer's out-of-memory: 2.4 GB claimed in a 3 KB file); with it, a claim past
/// the end of the buffer fails the skip, as past the end of a file. Only valid while the buffer is.
class MemoryStream : public DcmInputBufferStream {
public:
    MemoryStream(const unsigned char *data, size_t size, size_t offset = 0)
        : data_(data), size_(size), offset_(offset), plain_(currentProducer()) {
        if (offset < size) setBuffer(data + offset, static_cast<offile_off_t>(size - offset));
        setEos();
    }
    DcmInputStreamFactory *newFactory() const override;

private:
    const unsigned char *data_;
    size_t size_, offset_;
    const DcmProducer *plain_;  // the buffer's own producer: positions in it are positions in the file
};

/// Where a deferred element's value starts in the buffer.
class MemoryStreamFactory : public DcmInputStreamFactory {
public:
    MemoryStreamFactory(const unsigned char *data, size_t size, size_t offset) : data_(data), size_(size), offset_(offset) {}
    DcmInputStream *create() const override { return new MemoryStream(data_, size_, offset_); }
    DcmInputStreamFactory *clone() const override { return new MemoryStreamFactory(*this); }
    // Only an identifier (nothing in DCMTK 3.6.7 reads it); there is no buffer kind to return.
    DcmInputStreamFactoryType ident() const override { return DFT_DcmInputFileStreamFactory; }

private:
    const unsigned char *data_;
    size_t size_, offset_;
};

DcmInputStreamFactory *MemoryStream::newFactory() const {
    // Behind a (deflate) filter, tell() counts inflated bytes, not buffer bytes: read now, as DCMTK's file stream
    // does. Deflated data sets are refused before this, so that is not expected.
    if (currentProducer() != plain_) return nullptr;
    return new MemoryStreamFactory(data_, size_, offset_ + static_cast<size_t>(tell()));
}

/// Reads `file` from the buffer as DcmFileFormat::loadFile reads a file (transferInit, read, transferEnd).
OFCondition readFrom(DcmFileFormat &file, const unsigned char *data, size_t size, E_FileReadMode mode) {
    MemoryStream stream(data, size);
    const E_FileReadMode before = file.getReadMode();
    file.setReadMode(mode);
    file.transferInit();
    const OFCondition read = file.read(stream, EXS_Unknown, EGL_noChange, DCM_MaxReadLength);
    file.transferEnd();
    file.setReadMode(before);
    return read;
}

/// The most bytes a DICOM file may have: ImageDecoder.maxFileBytes, the Swift side's guarded loader's cap.
constexpr long long kMaxFileBytes = CDICOM_MAX_FILE_BYTES;

}  // namespace

extern "C" int cdicom_is_dicom(const unsigned char *data, size_t size) {
    return size >= 132 && std::memcmp(data + 128, "DICM", 4) == 0;
}

extern "C" int cdicom_decode_file(const char *path, long long max_pixels, cdicom_image *out) {
    std::memset(out, 0, sizeof *out);
    // Read whole, with the Swift loader's limits (a regular file, at most kMaxFileBytes), and decoded as bytes.
    const int fd = ::open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) return fail(out, "cannot open the file");
    struct stat info;
    if (::fstat(fd, &info) != 0 || !S_ISREG(info.st_mode)) {
        ::close(fd);
        return fail(out, "not a regular file");
    }
    if (info.st_size > kMaxFileBytes) {
        ::close(fd);
        return fail(out, "file too large (" + std::to_string(info.st_size) + " bytes; limit " + std::to_string(kMaxFileBytes) + ")");
    }
    std::vector<unsigned char> bytes(static_cast<size_t>(info.st_size));
    size_t got = 0;
    while (got < bytes.size()) {
        const ssize_t n = ::read(fd, bytes.data() + got, bytes.size() - got);
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) break;  // shorter than fstat said (cut while read): decoded as it is
        got += static_cast<size_t>(n);
    }
    ::close(fd);
    bytes.resize(got);
    return cdicom_decode_memory(bytes.data(), bytes.size(), max_pixels, out);
}

extern "C" int cdicom_decode_memory(const unsigned char *data, size_t size, long long max_pixels, cdicom_image *out) {
    std::memset(out, 0, sizeof *out);
    registerCodecs();
    if (data == nullptr || !cdicom_is_dicom(data, size)) return fail(out, "not a DICOM file (no DICM marker)");

    // A deflated data set is one deflate stream: DCMTK inflates and reads it whole, allocating every length it
    // claims before it can see that the stream is shorter (the DICOM fuzzer's out-of-memory). Only the meta header
    // is read to find that out; such a file is refused by name.
    {
        DcmFileFormat meta;
        OFString syntax;
        if (readFrom(meta, data, size, ERM_metaOnly).good() && meta.getMetaInfo() != nullptr &&
            meta.getMetaInfo()->findAndGetOFString(DCM_TransferSyntaxUID, syntax).good()) {
            DcmXfer declared(syntax.c_str());
            if (declared.getStreamCompression() != ESC_none) {
                return fail(out, std::string("unsupported transfer syntax ") + declared.getXferName() + " (" +
                                     declared.getXferID() + "): a deflated data set is read whole, trusting every "
                                     "length it claims; convert it with `dcmconv +te`");
            }
            // Nesting is bounded before DCMTK parses (its parser recurses once per level).
            if (nestingExceeds(data, size, declared.isExplicitVR(), declared.isBigEndian(), 2 * kMaxSequenceNesting)) {
                return fail(out, "unsupported: sequences nested more than " + std::to_string(kMaxSequenceNesting) +
                                     " levels deep");
            }
        }
    }

    DcmFileFormat file;
    // Elements over 4 KiB stay in the buffer until used (MemoryStream defers them).
    OFCondition read = readFrom(file, data, size, ERM_autoDetect);
    if (read.bad()) return fail(out, std::string("not a readable DICOM file: ") + read.text());
    DcmDataset *dataset = file.getDataset();
    if (dataset == nullptr) return fail(out, "no data set");
    E_TransferSyntax xfer = dataset->getOriginalXfer();
    DcmXfer xferInfo(xfer);
    // A length field is a claim: none may exceed the file, or DCMTK would allocate it when the element is read.
    DcmStack stack;
    while (dataset->nextObject(stack, OFTrue).good()) {
        DcmObject *object = stack.top();
        const Uint32 length = object->getLength();
        if (length != DCM_UndefinedLength && static_cast<size_t>(length) > size) {
            char tag[32];
            std::snprintf(tag, sizeof tag, "(%04x,%04x)", object->getGTag(), object->getETag());
            return fail(out, std::string("damaged file: element ") + tag + " claims " + std::to_string(length) +
                                 " bytes, more than the file's " + std::to_string(size));
        }
    }
    std::snprintf(out->transfer_syntax, sizeof out->transfer_syntax, "%s", xferInfo.getXferName());

    Uint16 rows = 0, columns = 0;
    if (dataset->findAndGetUint16(DCM_Rows, rows).bad() || dataset->findAndGetUint16(DCM_Columns, columns).bad() ||
        rows == 0 || columns == 0) {
        return fail(out, "no image in the file (Rows/Columns missing)");
    }
    if (static_cast<long long>(rows) * columns > max_pixels) {
        return fail(out, "image too large: " + std::to_string(columns) + "x" + std::to_string(rows) + " pixels");
    }
    if (!dataset->tagExists(DCM_PixelData)) return fail(out, "no pixel data in the file");
    Uint16 bitsAllocated = 0;
    dataset->findAndGetUint16(DCM_BitsAllocated, bitsAllocated);
    OFString photometric;
    dataset->findAndGetOFString(DCM_PhotometricInterpretation, photometric);
    // Native pixel data must hold the first frame: a few bytes that claim a 50-megapixel image would otherwise
    // have DCMTK allocate (and pad) the whole frame.
    if (!xferInfo.isEncapsulated()) {
        Uint16 samples = 1;
        dataset->findAndGetUint16(DCM_SamplesPerPixel, samples);
        DcmElement *pixelElement = nullptr;
        // Bits, not bytes: a BitsAllocated 1 image packs 8 pixels into a byte.
        // YBR_FULL_422 stores two values a pixel, not three (two luma samples share one Cb and one Cr).
        const unsigned long long perPixel = photometric == "YBR_FULL_422" ? 2 : std::max<Uint16>(1, samples);
        const unsigned long long frameBits = static_cast<unsigned long long>(rows) * columns * perPixel *
                                             std::max<Uint16>(1, bitsAllocated);
        const unsigned long long frameBytes = (frameBits + 7) / 8;
        if (dataset->findAndGetElement(DCM_PixelData, pixelElement).good() && pixelElement != nullptr &&
            pixelElement->getLength() != DCM_UndefinedLength && pixelElement->getLength() < frameBytes) {
            return fail(out, "damaged file: the pixel data (" + std::to_string(pixelElement->getLength()) +
                                 " bytes) is shorter than one " + std::to_string(columns) + "x" + std::to_string(rows) + " frame");
        }
    }

    // Decompress the pixel data first, so an unsupported transfer syntax is named.
    if (xferInfo.isEncapsulated()) {
        // The JPEG processes (dcmjpeg's), from baseline to lossless SV1.
        const bool dcmjpeg = xfer >= EXS_JPEGProcess1 && xfer <= EXS_JPEGProcess14SV1;
        if (dcmjpeg && jpegFragmentsWouldHang(dataset, xfer)) {
            return fail(out, "damaged JPEG data (a TEM marker before the frame header)");
        }
        OFCondition chosen = dataset->chooseRepresentation(EXS_LittleEndianExplicit, nullptr);
        if (chosen.bad() || !dataset->canWriteXfer(EXS_LittleEndianExplicit)) {
            return fail(out, std::string("unsupported transfer syntax ") + xferInfo.getXferName() + " (" +
                                 xferInfo.getXferID() + ")");
        }
    }

    out->monochrome1 = photometric == "MONOCHROME1";
    Uint16 bitsStored = 0;
    dataset->findAndGetUint16(DCM_BitsStored, bitsStored);
    out->bits_stored = bitsStored;
    Sint32 frames = 1;
    if (dataset->findAndGetSint32(DCM_NumberOfFrames, frames).bad() || frames < 1) frames = 1;
    out->frames = frames;

    // Stored values as DCMTK reads them, without its modality transform: we apply Rescale Slope/Intercept in
    // floating point, so a fractional slope keeps full precision.
    // Big-endian native pixel data of 32-bit samples: dcmdata reads it as OW, 16-bit words each brought to this
    // machine's order, so every sample's two words are in the wrong order for a 32-bit read (pydicom decodes these
    // files to the same values as their little-endian twins; issue #26 §9). Put the words back in sample order.
    if (!xferInfo.isEncapsulated() && xferInfo.isBigEndian() && bitsAllocated == 32) {
        DcmElement *pixels = nullptr;
        Uint16 *words = nullptr;
        if (dataset->findAndGetElement(DCM_PixelData, pixels).good() && pixels != nullptr &&
            pixels->getUint16Array(words).good() && words != nullptr) {
            const unsigned long count = pixels->getLength() / 2;
            for (unsigned long i = 0; i + 1 < count; i += 2) std::swap(words[i], words[i + 1]);
        }
    }
    DicomImage image(&file, EXS_LittleEndianExplicit, static_cast<unsigned long>(CIF_IgnoreModalityTransformation), 0UL, 1UL);
    if (image.getStatus() != EIS_Normal) {
        return fail(out, std::string("cannot decode the image: ") + DicomImage::getString(image.getStatus()));
    }
    out->width = static_cast<int>(image.getWidth());
    out->height = static_cast<int>(image.getHeight());
    const size_t count = static_cast<size_t>(out->width) * out->height;

    if (!image.isMonochrome()) {
        out->color = 1;
        out->rgb = static_cast<unsigned char *>(std::malloc(count * 3));
        if (out->rgb == nullptr || !image.getOutputData(out->rgb, count * 3, 8, 0, 0)) {
            cdicom_free(out);
            return fail(out, "cannot render the colour image");
        }
        return 0;
    }

    const DiPixel *inter = image.getInterData();
    if (inter == nullptr || inter->getData() == nullptr || inter->getCount() < count) {
        return fail(out, "no pixel values after decoding");
    }
    Float64 slope = 1, intercept = 0;
    dataset->findAndGetFloat64(DCM_RescaleSlope, slope);
    dataset->findAndGetFloat64(DCM_RescaleIntercept, intercept);
    if (!std::isfinite(slope) || slope == 0) slope = 1;
    if (!std::isfinite(intercept)) intercept = 0;
    out->values = static_cast<float *>(std::malloc(count * sizeof(float)));
    if (out->values == nullptr) return fail(out, "out of memory");
    const void *raw = inter->getData();
    double lo = INFINITY, hi = -INFINITY;
    for (size_t i = 0; i < count; i++) {
        double v = 0;
        switch (inter->getRepresentation()) {
            case EPR_Uint8: v = static_cast<const Uint8 *>(raw)[i]; break;
            case EPR_Sint8: v = static_cast<const Sint8 *>(raw)[i]; break;
            case EPR_Uint16: v = static_cast<const Uint16 *>(raw)[i]; break;
            case EPR_Sint16: v = static_cast<const Sint16 *>(raw)[i]; break;
            case EPR_Uint32: v = static_cast<const Uint32 *>(raw)[i]; break;
            case EPR_Sint32: v = static_cast<const Sint32 *>(raw)[i]; break;
        }
        v = v * slope + intercept;
        // Single precision holds what fracview windows and draws: a slope or intercept that pushes a value past
        // it (1e308, say) leaves nothing drawable, and would turn into infinities downstream.
        if (!std::isfinite(v) || std::fabs(v) > 1e30) {
            cdicom_free(out);
            char text[96];
            std::snprintf(text, sizeof text, "Rescale Slope %g and Intercept %g", slope, intercept);
            return fail(out, std::string("unsupported: ") + text + " give pixel values beyond single precision");
        }
        out->values[i] = static_cast<float>(v);
        if (v < lo) lo = v;
        if (v > hi) hi = v;
    }
    out->min_value = lo;
    out->max_value = hi;

    // The file's windows (multi-valued Window Center / Width).
    const unsigned long windows = std::min<unsigned long>(image.getWindowCount(), CDICOM_MAX_WINDOWS);
    for (unsigned long i = 0; i < windows; i++) {
        Float64 c = 0, w = 0;
        if (dataset->findAndGetFloat64(DCM_WindowCenter, c, i).good() &&
            dataset->findAndGetFloat64(DCM_WindowWidth, w, i).good() && std::isfinite(c) && std::isfinite(w) && w >= 1 &&
            std::fabs(c) <= 1e30 && w <= 1e30) {  // a window beyond single precision is ignored, like a missing one
            out->window_center[out->window_count] = c;
            out->window_width[out->window_count] = w;
            out->window_count++;
        }
    }

    // A VOI LUT: DCMTK renders it (with the modality transform this time), inverted for MONOCHROME1 by us.
    if (image.getVoiLutCount() > 0) {
        DicomImage lutImage(&file, EXS_LittleEndianExplicit, 0UL, 0UL, 1UL);
        if (lutImage.getStatus() == EIS_Normal && lutImage.setVoiLut(0UL)) {
            std::unique_ptr<Uint8[]> grey(new Uint8[count]);
            // DCMTK's output already follows MONOCHROME1 (presentation LUT shape INVERSE); undo that, so the
            // caller inverts every grey image the same way.
            lutImage.setPresentationLutShape(ESP_Identity);
            if (lutImage.getOutputData(grey.get(), count, 8, 0, 0)) {
                out->rgb = static_cast<unsigned char *>(std::malloc(count * 3));
                if (out->rgb != nullptr) {
                    for (size_t i = 0; i < count; i++) {
                        Uint8 g = grey[i];
                        out->rgb[i * 3] = out->rgb[i * 3 + 1] = out->rgb[i * 3 + 2] = g;
                    }
                    out->has_voi_lut = 1;
                }
            }
        }
    }
    return 0;
}

extern "C" void cdicom_free(cdicom_image *image) {
    std::free(image->values);
    std::free(image->rgb);
    image->values = nullptr;
    image->rgb = nullptr;
}
