// Datasets: open a file, read attributes as strings, decode monochrome frames to floats and RGB
// frames to bytes.
#include "dcmtk/config/osconfig.h"
#include "dcmtk/dcmdata/dctk.h"
#include "dcmtk/dcmdata/dcpixel.h"
#include "dcmtk/dcmdata/dcspchrs.h"
#include "cdicom.h"
#include "j2k.h"
#include "util.h"

#include <cmath>
#include <cstring>
#include <vector>

struct cdicom_dataset {
    DcmFileFormat file;
    // Text in another character set than ASCII/UTF-8 (Specific Character Set, e.g. ISO_IR 100) is
    // converted to UTF-8 as it is read: Swift strings and PostgreSQL text are UTF-8. The converter
    // is set up on the first such value only: most reads (UIDs on the C-STORE path) need none.
    DcmSpecificCharacterSet toUTF8;
    enum class Text { undecided, asIs, convert } text = Text::undecided;

    bool convertsText() {
        if (text == Text::undecided) {
            OFString charset;
            text = Text::asIs;
            // ASCII and UTF-8 need nothing; a character set the converter lacks leaves the bytes as
            // they are (Swift then replaces what is not UTF-8).
            if (file.getDataset()->findAndGetOFStringArray(DCM_SpecificCharacterSet, charset).good() &&
                !charset.empty() && charset != "ISO_IR 6" && charset != "ISO_IR 192" &&
                toUTF8.selectCharacterSet(charset, "ISO_IR 192").good())
                text = Text::convert;
        }
        return text == Text::convert;
    }
};

cdicom_dataset *cdicom_dataset_open(const char *path, int header_only, char *err, size_t err_len) {
    auto *ds = new cdicom_dataset();
    // header_only keeps large values (pixel data) on disk but still walks the whole stream, which
    // is what detects a truncated file.
    const Uint32 maxRead = header_only ? 4096 : DCM_MaxReadLength;
    OFCondition cond = ds->file.loadFile(path, EXS_Unknown, EGL_noChange, maxRead, ERM_autoDetect);
    if (cond.bad()) {
        cdicom::copy(err, err_len, cond.text());
        delete ds;
        return nullptr;
    }
    return ds;
}

void cdicom_dataset_close(cdicom_dataset *ds) { delete ds; }

int cdicom_dataset_get_string(cdicom_dataset *ds, uint16_t group, uint16_t element, char *buf, size_t buf_len) {
    DcmTagKey key(group, element);
    DcmItem *item = group == 0x0002 ? static_cast<DcmItem *>(ds->file.getMetaInfo())
                                    : static_cast<DcmItem *>(ds->file.getDataset());
    DcmElement *el = nullptr;
    if (item == nullptr || item->findAndGetElement(key, el).bad() || el == nullptr) return 0;
    OFString value;
    if (el->getLength() == 0) value.clear();
    else if (el->getOFStringArray(value).bad()) return 0;
    if (item != ds->file.getMetaInfo() && el->isAffectedBySpecificCharacterSet() && ds->convertsText()) {
        OFString converted;
        const char *delimiters = el->getVR() == EVR_PN ? "\\^=" : "\\";
        if (ds->toUTF8.convertString(value, converted, delimiters).good()) value = converted;
    }
    if (value.length() + 1 > buf_len) return -1;
    memcpy(buf, value.c_str(), value.length() + 1);
    return 1;
}

// Whether the pixel data can hold frame 0 as the header describes it, when it is stored native.
// Callers size their output from rows x columns before they decode, and a 2 KB file declaring
// 65535 x 65535 would have them allocate 17 GB before the decode found the data short (the dataset
// fuzz harness, which sizes its buffers so too, ran out of memory on such a file).
// Encapsulated pixel data has no size before it is decompressed.
static bool holdsFirstFrame(DcmDataset *d, Uint16 rows, Uint16 columns, Uint16 samplesPerPixel) {
    if (DcmXfer(d->getOriginalXfer()).isEncapsulated()) return true;
    DcmElement *pixel = nullptr;
    if (d->findAndGetElement(DCM_PixelData, pixel).bad() || pixel == nullptr) return false;
    Uint16 bitsAllocated = 0;
    d->findAndGetUint16(DCM_BitsAllocated, bitsAllocated);
    // A missing or zero SamplesPerPixel / BitsAllocated still costs callers one value per pixel.
    const uint64_t bits = (uint64_t)rows * columns * (samplesPerPixel ? samplesPerPixel : 1) *
                          (bitsAllocated ? bitsAllocated : 1);
    return (uint64_t)pixel->getLength() * 8 >= bits;
}

int cdicom_dataset_image_info(cdicom_dataset *ds, uint32_t *frames, uint32_t *rows, uint32_t *columns,
                              uint32_t *samples_per_pixel) {
    DcmDataset *d = ds->file.getDataset();
    Uint16 r = 0, c = 0, spp = 1;
    Sint32 nframes = 1;
    d->findAndGetUint16(DCM_Rows, r);
    d->findAndGetUint16(DCM_Columns, c);
    d->findAndGetUint16(DCM_SamplesPerPixel, spp);
    if (d->findAndGetSint32(DCM_NumberOfFrames, nframes).bad() || nframes < 1) nframes = 1;
    // JPEG 2000 is encapsulated too, HTJ2K included, which DCMTK 3.6.7 does not know (j2k.h).
    const bool jpeg2000 = cdicom::isJPEG2000(cdicom::transferSyntaxUID(ds->file));
    if (!d->tagExists(DCM_PixelData) || (!jpeg2000 && !holdsFirstFrame(d, r, c, spp))) { r = 0; c = 0; nframes = 0; }
    *frames = (uint32_t)nframes; *rows = r; *columns = c; *samples_per_pixel = spp;
    return 0;
}

// The pixel data of a frame's dataset, decompressed in place when encapsulated (JPEG, JPEG-LS, RLE;
// no-op for native data) and loaded into memory; nullptr with err set when there is none or the
// frame index is out of range.
static DcmElement *nativePixelData(DcmDataset *d, uint32_t frame, char *err, size_t err_len) {
    Sint32 nframes = 1;
    if (d->findAndGetSint32(DCM_NumberOfFrames, nframes).bad() || nframes < 1) nframes = 1;
    if ((Sint32)frame >= nframes) { cdicom::copy(err, err_len, "frame index out of range"); return nullptr; }
    if (DcmXfer(d->getOriginalXfer()).isEncapsulated()) {
        OFCondition c = d->chooseRepresentation(EXS_LittleEndianExplicit, nullptr);
        if (c.bad() || !d->canWriteXfer(EXS_LittleEndianExplicit)) {
            cdicom::copy(err, err_len, (std::string("cannot decompress pixel data: ") + c.text()).c_str());
            return nullptr;
        }
    }
    DcmElement *pixel = nullptr;
    if (d->findAndGetElement(DCM_PixelData, pixel).bad() || pixel == nullptr) {
        cdicom::copy(err, err_len, "no pixel data");
        return nullptr;
    }
    // Values may have been left on disk by a header-only open: load them now.
    pixel->loadAllDataIntoMemory();
    return pixel;
}

// Stored values → float with BitsStored masking and sign extension, as pydicom's pixel_array does,
// then the modality rescale. Decompression goes through DCMTK's registered codecs.
int cdicom_dataset_decode_frame(cdicom_dataset *ds, uint32_t frame, float *out, size_t out_count,
                                char *err, size_t err_len) {
    DcmDataset *d = ds->file.getDataset();
    Uint16 rows = 0, cols = 0, spp = 1, bitsAllocated = 0, bitsStored = 0, pixelRep = 0;
    d->findAndGetUint16(DCM_Rows, rows);
    d->findAndGetUint16(DCM_Columns, cols);
    d->findAndGetUint16(DCM_SamplesPerPixel, spp);
    d->findAndGetUint16(DCM_BitsAllocated, bitsAllocated);
    if (d->findAndGetUint16(DCM_BitsStored, bitsStored).bad()) bitsStored = bitsAllocated;
    d->findAndGetUint16(DCM_PixelRepresentation, pixelRep);
    if (spp != 1) { cdicom::copy(err, err_len, "only monochrome images (SamplesPerPixel 1) are supported"); return -1; }
    if (bitsAllocated != 8 && bitsAllocated != 16) { cdicom::copy(err, err_len, "BitsAllocated must be 8 or 16"); return -1; }
    if (bitsStored == 0 || bitsStored > bitsAllocated) bitsStored = bitsAllocated;
    const size_t npix = (size_t)rows * cols;
    if (out_count < npix) { cdicom::copy(err, err_len, "output buffer too small"); return -1; }

    // JPEG 2000 and HTJ2K are decoded by OpenJPEG (j2k.cc): DCMTK 3.6.7 has no codec for them.
    const bool jpeg2000 = cdicom::isJPEG2000(cdicom::transferSyntaxUID(ds->file));
    DcmElement *pixel = jpeg2000 ? nullptr : nativePixelData(d, frame, err, err_len);
    if (!jpeg2000 && pixel == nullptr) return -1;

    Float64 slope = 1.0, intercept = 0.0;
    if (d->findAndGetFloat64(DCM_RescaleSlope, slope).bad()) slope = 1.0;
    if (d->findAndGetFloat64(DCM_RescaleIntercept, intercept).bad()) intercept = 0.0;

    const Uint32 mask = bitsStored >= 32 ? 0xffffffffu : ((1u << bitsStored) - 1u);
    const Uint32 signBit = 1u << (bitsStored - 1);
    auto convert = [&](Uint32 raw) -> float {
        Uint32 v = raw & mask;
        double value;
        if (pixelRep == 1 && (v & signBit)) value = (double)((Sint32)(v | ~mask));
        else value = (double)v;
        return (float)(value * slope + intercept);
    };
    if (jpeg2000) {
        std::vector<int32_t> values;
        std::string why;
        if (!cdicom::decodeJPEG2000Frame(d, frame, rows, cols, bitsAllocated, values, why)) {
            cdicom::copy(err, err_len, why.c_str());
            return -1;
        }
        for (size_t i = 0; i < npix; ++i) out[i] = convert((Uint32)values[i]);
        return 0;
    }
    if (bitsAllocated == 16) {
        Uint16 *data = nullptr;
        if (pixel->getUint16Array(data).bad() || data == nullptr || pixel->getLength() < (frame + 1) * npix * 2) {
            cdicom::copy(err, err_len, "pixel data shorter than Rows x Columns x frames");
            return -1;
        }
        const Uint16 *f = data + (size_t)frame * npix;
        for (size_t i = 0; i < npix; ++i) out[i] = convert(f[i]);
    } else {
        Uint8 *data = nullptr;
        if (pixel->getUint8Array(data).bad() || data == nullptr || pixel->getLength() < (frame + 1) * npix) {
            cdicom::copy(err, err_len, "pixel data shorter than Rows x Columns x frames");
            return -1;
        }
        const Uint8 *f = data + (size_t)frame * npix;
        for (size_t i = 0; i < npix; ++i) out[i] = convert(f[i]);
    }
    return 0;
}

int cdicom_dataset_decode_rgb8(cdicom_dataset *ds, uint32_t frame, uint8_t *out, size_t out_count,
                               char *err, size_t err_len) {
    DcmDataset *d = ds->file.getDataset();
    Uint16 rows = 0, cols = 0, spp = 0, bitsAllocated = 0, planar = 0;
    OFString photometric;
    d->findAndGetUint16(DCM_Rows, rows);
    d->findAndGetUint16(DCM_Columns, cols);
    d->findAndGetUint16(DCM_SamplesPerPixel, spp);
    d->findAndGetUint16(DCM_BitsAllocated, bitsAllocated);
    d->findAndGetUint16(DCM_PlanarConfiguration, planar);
    d->findAndGetOFString(DCM_PhotometricInterpretation, photometric);
    if (spp != 3 || bitsAllocated != 8 || photometric != "RGB") {
        cdicom::copy(err, err_len, "only 8-bit RGB images (SamplesPerPixel 3, PhotometricInterpretation RGB) are supported");
        return -1;
    }
    const size_t npix = (size_t)rows * cols;
    if (out_count < npix * 3) { cdicom::copy(err, err_len, "output buffer too small"); return -1; }
    DcmElement *pixel = nativePixelData(d, frame, err, err_len);
    if (pixel == nullptr) return -1;
    Uint8 *data = nullptr;
    if (pixel->getUint8Array(data).bad() || data == nullptr || pixel->getLength() < (frame + 1) * npix * 3) {
        cdicom::copy(err, err_len, "pixel data shorter than Rows x Columns x 3 x frames");
        return -1;
    }
    const Uint8 *f = data + (size_t)frame * npix * 3;
    if (planar == 0) {
        memcpy(out, f, npix * 3);
    } else {  // R plane, G plane, B plane
        for (size_t i = 0; i < npix; ++i)
            for (size_t c = 0; c < 3; ++c) out[i * 3 + c] = f[c * npix + i];
    }
    return 0;
}

// Enhanced multi-frame images (Enhanced MR, Legacy Converted Enhanced MR) keep each frame's
// geometry and parameters in functional group macros: a sequence of one item inside item `frame`
// of the Per-Frame Functional Groups Sequence, or, when the same for all frames, inside the one
// item of the Shared Functional Groups Sequence (PS3.3 C.7.6.16).
static DcmItem *functionalGroupItem(DcmDataset *d, uint32_t frame, const DcmTagKey &groupSequence) {
    DcmItem *frameItem = nullptr, *macro = nullptr;
    if (d->findAndGetSequenceItem(DCM_PerFrameFunctionalGroupsSequence, frameItem, (signed long)frame).good() &&
        frameItem != nullptr && frameItem->findAndGetSequenceItem(groupSequence, macro, 0).good() && macro != nullptr)
        return macro;
    DcmItem *shared = nullptr;
    if (d->findAndGetSequenceItem(DCM_SharedFunctionalGroupsSequence, shared, 0).good() && shared != nullptr &&
        shared->findAndGetSequenceItem(groupSequence, macro, 0).good() && macro != nullptr)
        return macro;
    return nullptr;
}

int cdicom_dataset_frame_string(cdicom_dataset *ds, uint32_t frame, uint16_t sequence_group, uint16_t sequence_element,
                                uint16_t group, uint16_t element, char *buf, size_t buf_len) {
    DcmItem *macro = functionalGroupItem(ds->file.getDataset(), frame, DcmTagKey(sequence_group, sequence_element));
    DcmElement *el = nullptr;
    if (macro == nullptr || macro->findAndGetElement(DcmTagKey(group, element), el).bad() || el == nullptr) return 0;
    OFString value;
    if (el->getLength() > 0 && el->getOFStringArray(value).bad()) return 0;
    if (value.length() + 1 > buf_len) return -1;
    memcpy(buf, value.c_str(), value.length() + 1);
    return 1;
}
