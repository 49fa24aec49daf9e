// Secondary Capture Image writer (the key image): RGB, 8 bits, explicit VR little endian, in the
// study of a received instance whose Patient, General Study and Patient Study modules are copied.
#include "dcmtk/config/osconfig.h"
#include "dcmtk/dcmdata/dctk.h"
#include "cdicom.h"
#include "util.h"
#include "writer.h"

#include <string>

namespace {

using cdicom::check;
using cdicom::Failure;
using cdicom::str;

void put(DcmItem &d, const DcmTagKey &key, const std::string &value) {
    check(d.putAndInsertString(key, value.c_str()), DcmTag(key).getTagName());
}

void write(const cdicom_sc_image &im, const char *path) {
    if (im.rows == 0 || im.columns == 0 || im.rows > 65535 || im.columns > 65535 || im.rgb == nullptr)
        throw Failure{"image size must be 1..65535 rows and columns"};
    DcmFileFormat sourceFile;
    check(sourceFile.loadFile(str(im.source_path).c_str(), EXS_Unknown, EGL_noChange, 4096), "cannot read source instance");
    DcmDataset &source = *sourceFile.getDataset();

    DcmFileFormat out;
    DcmDataset &ds = *out.getDataset();
    // Type 2 attributes of the Patient and General Study modules, overwritten from the source below.
    for (const DcmTagKey &k : {DCM_PatientName, DCM_PatientID, DCM_PatientBirthDate, DCM_PatientSex, DCM_StudyDate,
                               DCM_StudyTime, DCM_ReferringPhysicianName, DCM_StudyID, DCM_AccessionNumber})
        put(ds, k, "");
    cdicom::copyPatientAndStudy(source, ds);

    // SOP Common
    put(ds, DCM_SOPClassUID, UID_SecondaryCaptureImageStorage);
    put(ds, DCM_SOPInstanceUID, str(im.instance.sop_instance_uid));
    put(ds, DCM_InstanceCreationDate, str(im.instance.content_date));
    put(ds, DCM_InstanceCreationTime, str(im.instance.content_time));
    if (im.instance.timezone_offset && *im.instance.timezone_offset) put(ds, DCM_TimezoneOffsetFromUTC, im.instance.timezone_offset);
    // General Study (UID) and General Series
    put(ds, DCM_StudyInstanceUID, str(im.instance.study_instance_uid));
    put(ds, DCM_Modality, "OT");
    put(ds, DCM_SeriesInstanceUID, str(im.instance.series_instance_uid));
    put(ds, DCM_Laterality, "");  // type 2C; dciodvfy wants it present (empty: not a paired structure)
    put(ds, DCM_SeriesNumber, std::to_string(im.instance.series_number));
    put(ds, DCM_SeriesDescription, str(im.instance.series_description));
    put(ds, DCM_SeriesDate, str(im.instance.content_date));
    put(ds, DCM_SeriesTime, str(im.instance.content_time));
    // General Equipment and SC Equipment
    put(ds, DCM_Manufacturer, str(im.instance.manufacturer));
    if (im.instance.model_name && *im.instance.model_name) put(ds, DCM_ManufacturerModelName, im.instance.model_name);
    if (im.instance.software_version && *im.instance.software_version) put(ds, DCM_SoftwareVersions, im.instance.software_version);
    put(ds, DCM_ConversionType, "WSD");
    if (im.instance.manufacturer && *im.instance.manufacturer) put(ds, DCM_SecondaryCaptureDeviceManufacturer, im.instance.manufacturer);
    if (im.instance.model_name && *im.instance.model_name) put(ds, DCM_SecondaryCaptureDeviceManufacturerModelName, im.instance.model_name);
    if (im.instance.software_version && *im.instance.software_version) put(ds, DCM_SecondaryCaptureDeviceSoftwareVersions, im.instance.software_version);
    // General Image and SC Image
    put(ds, DCM_InstanceNumber, std::to_string(im.instance.instance_number));
    put(ds, DCM_PatientOrientation, "");
    put(ds, DCM_ContentDate, str(im.instance.content_date));
    put(ds, DCM_ContentTime, str(im.instance.content_time));
    put(ds, DCM_ImageType, "DERIVED\\SECONDARY");
    put(ds, DCM_DateOfSecondaryCapture, str(im.instance.content_date));
    put(ds, DCM_TimeOfSecondaryCapture, str(im.instance.content_time));
    put(ds, DCM_BurnedInAnnotation, "YES");
    put(ds, DCM_LossyImageCompression, "00");
    if (im.derivation_description && *im.derivation_description) put(ds, DCM_DerivationDescription, im.derivation_description);
    {
        DcmItem *src = nullptr;
        check(ds.findOrCreateSequenceItem(DCM_SourceImageSequence, src, -2), "SourceImageSequence");
        put(*src, DCM_ReferencedSOPClassUID, str(im.derived_from.sop_class_uid));
        put(*src, DCM_ReferencedSOPInstanceUID, str(im.derived_from.sop_instance_uid));
        // The analysed frame of an enhanced multi-frame image.
        if (im.derived_from.frame_number > 0)
            check(src->putAndInsertString(DCM_ReferencedFrameNumber, std::to_string(im.derived_from.frame_number).c_str()),
                  "ReferencedFrameNumber");
    }
    // Image Pixel
    check(ds.putAndInsertUint16(DCM_SamplesPerPixel, 3), "SamplesPerPixel");
    put(ds, DCM_PhotometricInterpretation, "RGB");
    check(ds.putAndInsertUint16(DCM_PlanarConfiguration, 0), "PlanarConfiguration");
    check(ds.putAndInsertUint16(DCM_Rows, (Uint16)im.rows), "Rows");
    check(ds.putAndInsertUint16(DCM_Columns, (Uint16)im.columns), "Columns");
    check(ds.putAndInsertUint16(DCM_BitsAllocated, 8), "BitsAllocated");
    check(ds.putAndInsertUint16(DCM_BitsStored, 8), "BitsStored");
    check(ds.putAndInsertUint16(DCM_HighBit, 7), "HighBit");
    check(ds.putAndInsertUint16(DCM_PixelRepresentation, 0), "PixelRepresentation");
    const unsigned long bytes = (unsigned long)im.rows * im.columns * 3;
    // OB, padded to even length by DCMTK when odd.
    check(ds.putAndInsertUint8Array(DCM_PixelData, im.rgb, bytes), "PixelData");

    cdicom::savePart10(out, path);
}

}  // namespace

int cdicom_sc_write(const cdicom_sc_image *image, const char *path, char *err, size_t err_len) {
    return cdicom::guarded(err, err_len, [&] { write(*image, path); });
}
