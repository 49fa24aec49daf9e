// JPEG 2000 (Part 1) and High-Throughput JPEG 2000 frames: the fragments of a frame are taken from
// the encapsulated Pixel Data as received and decoded from memory by OpenJPEG (HT code-blocks are
// decoded by the same J2K/JP2 codec since OpenJPEG 2.5.0).
#include "j2k.h"

#include "dcmtk/dcmdata/dcpixel.h"
#include "dcmtk/dcmdata/dcpixseq.h"
#include "dcmtk/dcmdata/dcpxitem.h"

#include <openjpeg-2.5/openjpeg.h>

#include <cstring>
#include <memory>

namespace {

const char *const jpeg2000Syntaxes[] = {
    "1.2.840.10008.1.2.4.90",   // JPEG 2000 Image Compression (Lossless Only)
    "1.2.840.10008.1.2.4.91",   // JPEG 2000 Image Compression
    "1.2.840.10008.1.2.4.201",  // High-Throughput JPEG 2000 Image Compression (Lossless Only)
    "1.2.840.10008.1.2.4.202",  // High-Throughput JPEG 2000 with RPCL Options Image Compression (Lossless Only)
    "1.2.840.10008.1.2.4.203",  // High-Throughput JPEG 2000 Image Compression
};

// A J2K codestream starts with SOC then SIZ; a JP2 file with its signature box.
const uint8_t codestreamMagic[] = {0xff, 0x4f, 0xff, 0x51};
const uint8_t jp2Magic[] = {0x00, 0x00, 0x00, 0x0c, 0x6a, 0x50, 0x20, 0x20, 0x0d, 0x0a, 0x87, 0x0a};

bool startsWith(const std::vector<uint8_t> &bytes, size_t at, const uint8_t *magic, size_t n) {
    return bytes.size() >= at + n && memcmp(bytes.data() + at, magic, n) == 0;
}

// An OpenJPEG input stream over a buffer in memory.
struct Buffer {
    const std::vector<uint8_t> &bytes;
    size_t at = 0;
};

OPJ_SIZE_T readBuffer(void *into, OPJ_SIZE_T n, void *user) {
    auto *b = static_cast<Buffer *>(user);
    if (b->at >= b->bytes.size()) return (OPJ_SIZE_T)-1;  // end of stream, as OpenJPEG expects
    const size_t count = std::min((size_t)n, b->bytes.size() - b->at);
    memcpy(into, b->bytes.data() + b->at, count);
    b->at += count;
    return count;
}

OPJ_OFF_T skipBuffer(OPJ_OFF_T n, void *user) {
    auto *b = static_cast<Buffer *>(user);
    if (n < 0) {
        if ((size_t)(-n) > b->at) return -1;
        b->at -= (size_t)(-n);
        return n;
    }
    const size_t count = std::min((size_t)n, b->bytes.size() - std::min(b->at, b->bytes.size()));
    b->at += count;
    return (OPJ_OFF_T)count;
}

OPJ_BOOL seekBuffer(OPJ_OFF_T to, void *user) {
    auto *b = static_cast<Buffer *>(user);
    if (to < 0 || (size_t)to > b->bytes.size()) return OPJ_FALSE;
    b->at = (size_t)to;
    return OPJ_TRUE;
}

// OpenJPEG reports errors through a callback: the first one is kept as the reason.
void collectError(const char *message, void *user) {
    auto *why = static_cast<std::string *>(user);
    if (!why->empty()) return;
    *why = message ? message : "";
    while (!why->empty() && (why->back() == '\n' || why->back() == '\r')) why->pop_back();
}
void ignoreMessage(const char *, void *) {}

struct CodecDeleter { void operator()(opj_codec_t *c) const { opj_destroy_codec(c); } };
struct StreamDeleter { void operator()(opj_stream_t *s) const { opj_stream_destroy(s); } };
struct ImageDeleter { void operator()(opj_image_t *i) const { opj_image_destroy(i); } };

bool itemBytes(DcmPixelSequence *seq, unsigned long index, const Uint8 *&data, Uint32 &length) {
    DcmPixelItem *item = nullptr;
    if (seq->getItem(item, index).bad() || item == nullptr) return false;
    Uint8 *bytes = nullptr;
    length = item->getLength();
    if (length == 0) { data = nullptr; return true; }
    if (item->getUint8Array(bytes).bad() || bytes == nullptr) return false;
    data = bytes;
    return true;
}

// The bytes of one frame: by the Basic Offset Table when it has one entry per frame; otherwise one
// fragment per frame when the counts match, or, for a single frame, all fragments; otherwise frames
// are told apart by the fragments that start a codestream (PS3.5 A.4: each frame starts a fragment).
bool frameBytes(DcmPixelSequence *seq, uint32_t frame, uint32_t frames, std::vector<uint8_t> &out, std::string &why) {
    const unsigned long items = seq->card();
    if (items < 2) { why = "encapsulated pixel data has no fragments"; return false; }
    const unsigned long fragments = items - 1;  // item 0 is the Basic Offset Table
    std::vector<const Uint8 *> data(items);
    std::vector<Uint32> length(items);
    for (unsigned long i = 0; i < items; ++i)
        if (!itemBytes(seq, i, data[i], length[i])) { why = "cannot read pixel item " + std::to_string(i); return false; }

    auto append = [&](unsigned long first, unsigned long last) {  // fragments [first, last)
        for (unsigned long i = first; i < last; ++i) out.insert(out.end(), data[i], data[i] + length[i]);
    };
    if (frames == 1) { append(1, items); return true; }
    if (length[0] == (Uint64)frames * 4) {
        // Offsets are from the first byte of the first fragment's item tag (8 bytes of tag and length each).
        std::vector<Uint32> offsets(frames);
        for (uint32_t f = 0; f < frames; ++f) {
            const Uint8 *p = data[0] + f * 4;
            offsets[f] = (Uint32)p[0] | ((Uint32)p[1] << 8) | ((Uint32)p[2] << 16) | ((Uint32)p[3] << 24);
        }
        Uint64 position = 0;
        unsigned long first = 0, last = frame + 1 < frames ? 0 : items;
        for (unsigned long i = 1; i < items; ++i) {
            if (position == offsets[frame]) first = i;
            if (frame + 1 < frames && position == offsets[frame + 1]) { last = i; break; }
            position += 8 + (Uint64)length[i];
        }
        if (first == 0 || last <= first) { why = "the Basic Offset Table does not point at fragment starts"; return false; }
        append(first, last);
        return true;
    }
    if (fragments == frames) { append(frame + 1, frame + 2); return true; }
    std::vector<unsigned long> starts;
    for (unsigned long i = 1; i < items; ++i) {
        const bool soc = length[i] >= 4 && memcmp(data[i], codestreamMagic, 4) == 0;
        const bool jp2 = length[i] >= sizeof jp2Magic && memcmp(data[i], jp2Magic, sizeof jp2Magic) == 0;
        if (soc || jp2) starts.push_back(i);
    }
    if (starts.size() != frames) {
        why = std::to_string(fragments) + " fragments hold " + std::to_string(starts.size()) + " codestreams for " +
              std::to_string(frames) + " frames and there is no Basic Offset Table";
        return false;
    }
    append(starts[frame], frame + 1 < frames ? starts[frame + 1] : items);
    return true;
}

}  // namespace

bool cdicom::isJPEG2000(const std::string &uid) {
    for (const char *s : jpeg2000Syntaxes)
        if (uid == s) return true;
    return false;
}

std::string cdicom::transferSyntaxUID(DcmFileFormat &file) {
    OFString uid;
    if (file.getMetaInfo()->findAndGetOFString(DCM_TransferSyntaxUID, uid).good() && !uid.empty()) return uid.c_str();
    return DcmXfer(file.getDataset()->getOriginalXfer()).getXferID();
}

bool cdicom::decodeJPEG2000Frame(DcmDataset *d, uint32_t frame, uint16_t rows, uint16_t columns, uint16_t bitsAllocated,
                                 std::vector<int32_t> &values, std::string &why) {
    Sint32 numberOfFrames = 1;
    if (d->findAndGetSint32(DCM_NumberOfFrames, numberOfFrames).bad() || numberOfFrames < 1) numberOfFrames = 1;
    const uint32_t frames = (uint32_t)numberOfFrames;
    if (frame >= frames) { why = "frame index out of range"; return false; }
    DcmElement *element = nullptr;
    if (d->findAndGetElement(DCM_PixelData, element).bad() || element == nullptr) { why = "no pixel data"; return false; }
    // Values may have been left on disk by a header-only open: load them now.
    element->loadAllDataIntoMemory();
    auto *pixelData = OFdynamic_cast(DcmPixelData *, element);
    DcmPixelSequence *seq = nullptr;
    E_TransferSyntax original = EXS_Unknown;
    const DcmRepresentationParameter *parameter = nullptr;
    if (pixelData != nullptr) pixelData->getOriginalRepresentationKey(original, parameter);
    if (pixelData == nullptr || pixelData->getEncapsulatedRepresentation(original, parameter, seq).bad() || seq == nullptr) {
        why = "JPEG 2000 pixel data is not encapsulated";
        return false;
    }
    std::vector<uint8_t> bytes;
    if (!frameBytes(seq, frame, frames, bytes, why)) return false;

    OPJ_CODEC_FORMAT format;
    if (startsWith(bytes, 0, codestreamMagic, sizeof codestreamMagic)) format = OPJ_CODEC_J2K;
    else if (startsWith(bytes, 0, jp2Magic, sizeof jp2Magic)) format = OPJ_CODEC_JP2;
    else { why = "frame is neither a JPEG 2000 codestream nor a JP2 file"; return false; }

    std::unique_ptr<opj_codec_t, CodecDeleter> codec(opj_create_decompress(format));
    std::string error;
    opj_set_error_handler(codec.get(), collectError, &error);
    opj_set_warning_handler(codec.get(), ignoreMessage, nullptr);
    opj_set_info_handler(codec.get(), ignoreMessage, nullptr);
    opj_dparameters_t parameters;
    opj_set_default_decoder_parameters(&parameters);
    Buffer buffer{bytes};
    std::unique_ptr<opj_stream_t, StreamDeleter> stream(opj_stream_default_create(OPJ_TRUE));
    opj_stream_set_user_data(stream.get(), &buffer, nullptr);
    opj_stream_set_user_data_length(stream.get(), bytes.size());
    opj_stream_set_read_function(stream.get(), readBuffer);
    opj_stream_set_skip_function(stream.get(), skipBuffer);
    opj_stream_set_seek_function(stream.get(), seekBuffer);

    opj_image_t *raw = nullptr;
    const bool header = opj_setup_decoder(codec.get(), &parameters) && opj_read_header(stream.get(), codec.get(), &raw);
    std::unique_ptr<opj_image_t, ImageDeleter> image(raw);
    if (!header || !opj_decode(codec.get(), stream.get(), image.get()) || !opj_end_decompress(codec.get(), stream.get())) {
        why = "JPEG 2000 decoding failed: " + (error.empty() ? std::string("corrupt codestream") : error);
        return false;
    }
    if (image->numcomps != 1) { why = "JPEG 2000 frame has " + std::to_string(image->numcomps) + " components, expected 1"; return false; }
    const opj_image_comp_t &c = image->comps[0];
    if (c.w != columns || c.h != rows || c.data == nullptr) {
        why = "JPEG 2000 frame is " + std::to_string(c.w) + "x" + std::to_string(c.h) + ", Columns x Rows say " +
              std::to_string(columns) + "x" + std::to_string(rows);
        return false;
    }
    if (c.prec > bitsAllocated) {
        why = "JPEG 2000 precision " + std::to_string(c.prec) + " bits exceeds BitsAllocated " + std::to_string(bitsAllocated);
        return false;
    }
    values.assign(c.data, c.data + (size_t)rows * columns);
    return true;
}
