#include "srdocument.h"
#include "writer.h"

#include <string>

namespace cdicom {

void describeDocument(DSRDocument &doc, const cdicom_new_instance &i) {
    check(doc.createNewSeriesInStudy(str(i.study_instance_uid)), "study");
    check(doc.setSeriesNumber(std::to_string(i.series_number)), "series number");
    check(doc.setSeriesDescription(str(i.series_description)), "series description");
    check(doc.setInstanceNumber(std::to_string(i.instance_number)), "instance number");
    check(doc.setContentDate(str(i.content_date)), "content date");
    check(doc.setContentTime(str(i.content_time)), "content time");
    if (i.timezone_offset && *i.timezone_offset) check(doc.setTimezoneOffsetFromUTC(i.timezone_offset), "timezone");
    check(doc.setManufacturer(str(i.manufacturer)), "manufacturer");
    check(doc.setManufacturerModelName(str(i.model_name)), "model name");
    check(doc.setSoftwareVersions(str(i.software_version)), "software version");
}

void restoreUIDs(DcmDataset &ds, const cdicom_new_instance &i) {
    check(ds.putAndInsertString(DCM_SeriesInstanceUID, str(i.series_instance_uid).c_str()), "series UID");
    check(ds.putAndInsertString(DCM_SOPInstanceUID, str(i.sop_instance_uid).c_str()), "SOP instance UID");
    check(ds.putAndInsertString(DCM_StudyInstanceUID, str(i.study_instance_uid).c_str()), "study UID");
}

DSRImageReferenceValue imageReference(const cdicom_instance_ref &ref) {
    DSRImageReferenceValue value(str(ref.sop_class_uid), str(ref.sop_instance_uid));
    if (ref.frame_number > 0) value.getFrameList().addItem((Sint32)ref.frame_number);
    return value;
}

}  // namespace cdicom
