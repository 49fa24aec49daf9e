// Structured report writer: TID 1500 Imaging Measurement Report on DCMTK's cmr templates, as
// Comprehensive 3D SR (default) or Enhanced SR. What the cmr classes cannot express (TID 4019
// Algorithm Identification inside each TID 1501 group) is added to the expanded document tree
// afterwards; the Patient, General Study and Patient Study modules are copied from a received
// instance of the analysed series, ContributingEquipmentSequence is added to the data set.
// Mechanism only: every code and value comes from the caller (Swift's Codes.swift).
#include "dcmtk/config/osconfig.h"
#include "dcmtk/dcmdata/dctk.h"
#include "dcmtk/dcmsr/dsrdoc.h"
#include "dcmtk/dcmsr/cmr/tid1500.h"
#include "dcmtk/dcmsr/cmr/tid1001.h"
#include "dcmtk/dcmsr/cmr/tid1600.h"
#include "cdicom.h"
#include "util.h"
#include "writer.h"
#include "srdocument.h"

#include <string>

namespace {

using cdicom::check;
using cdicom::Failure;
using cdicom::str;

DSRCodedEntryValue code(const cdicom_code &c) {
    const std::string version = str(c.scheme_version);
    // No check: private codes (99LSTV) and UCUM annotations are deliberately outside DCMTK's lists.
    if (version.empty()) return DSRCodedEntryValue(str(c.value), str(c.scheme), str(c.meaning), DSRTypes::CVT_auto, OFFalse);
    return DSRCodedEntryValue(str(c.value), str(c.scheme), version, str(c.meaning), DSRTypes::CVT_auto, OFFalse);
}

// Positions the cursor on the TID 1501 group whose Tracking Unique Identifier is `uid`.
bool gotoGroup(DSRDocumentTree &tree, const DSRCodedEntryValue &trackingUIDConcept, const std::string &uid) {
    tree.gotoRoot();
    size_t id = tree.gotoNamedNode(trackingUIDConcept, OFTrue, OFTrue);
    while (id > 0) {
        if (tree.getCurrentContentItem().getStringValue() == uid.c_str()) return tree.goUp() > 0;
        id = tree.gotoNextNamedNode(trackingUIDConcept, OFTrue);
    }
    return false;
}

void addAlgorithmIdentification(DSRDocumentTree &tree, const cdicom_sr_report &r) {
    // TID 4019 under the current group (TID 1501 HAS CONCEPT MOD): name, and below it the version
    // and the parameters.
    check(tree.addChildContentItem(DSRTypes::RT_hasConceptMod, DSRTypes::VT_Text,
                                   DSRCodedEntryValue("111001", "DCM", "Algorithm Name")), "TID 4019 name");
    check(tree.getCurrentContentItem().setStringValue(str(r.algorithm_name)), "algorithm name");
    check(tree.addChildContentItem(DSRTypes::RT_hasConceptMod, DSRTypes::VT_Text,
                                   DSRCodedEntryValue("111003", "DCM", "Algorithm Version")), "TID 4019 version");
    check(tree.getCurrentContentItem().setStringValue(str(r.algorithm_version)), "algorithm version");
    for (size_t i = 0; i < r.algorithm_parameter_count; ++i) {
        check(tree.addContentItem(DSRTypes::RT_hasConceptMod, DSRTypes::VT_Text,
                                  DSRCodedEntryValue("111002", "DCM", "Algorithm Parameters")), "TID 4019 parameter");
        check(tree.getCurrentContentItem().setStringValue(str(r.algorithm_parameters[i])), "algorithm parameter");
    }
}

void addContributingEquipment(DcmDataset &ds, const cdicom_sr_report &r) {
    DcmItem *item = nullptr;
    ds.findAndDeleteElement(DCM_ContributingEquipmentSequence);
    check(ds.findOrCreateSequenceItem(DCM_ContributingEquipmentSequence, item, -2), "ContributingEquipmentSequence");
    item->putAndInsertString(DCM_Manufacturer, str(r.instance.manufacturer).c_str());
    if (r.institution_name && *r.institution_name) item->putAndInsertString(DCM_InstitutionName, r.institution_name);
    item->putAndInsertString(DCM_ManufacturerModelName, str(r.instance.model_name).c_str());
    item->putAndInsertString(DCM_SoftwareVersions, str(r.instance.software_version).c_str());
    item->putAndInsertString(DCM_ContributionDateTime,
                             (str(r.instance.content_date) + str(r.instance.content_time) + str(r.instance.timezone_offset)).c_str());
    item->putAndInsertString(DCM_ContributionDescription, "Automated analysis of the referenced series");
    DcmItem *purpose = nullptr;
    check(item->findOrCreateSequenceItem(DCM_PurposeOfReferenceCodeSequence, purpose, -2), "PurposeOfReferenceCodeSequence");
    purpose->putAndInsertString(DCM_CodeValue, str(r.equipment_purpose.value).c_str());
    purpose->putAndInsertString(DCM_CodingSchemeDesignator, str(r.equipment_purpose.scheme).c_str());
    purpose->putAndInsertString(DCM_CodeMeaning, str(r.equipment_purpose.meaning).c_str());
}

void write(const cdicom_sr_report &r, const char *path) {
    DcmFileFormat sourceFile;
    check(sourceFile.loadFile(str(r.source_path).c_str(), EXS_Unknown, EGL_noChange, 4096), "cannot read source instance");
    DcmDataset &source = *sourceFile.getDataset();

    // ---- content tree (cmr) ----
    TID1500_MeasurementReport report(CID7021_MeasurementReportDocumentTitles(code(r.document_title)));
    check(report.setLanguage(CID5000_Languages(code(r.language)), CID5001_Countries(code(r.country))), "language");
    check(report.getObservationContext().addDeviceObserver(str(r.device_observer_uid), str(r.device_observer_name),
                                                           str(r.instance.manufacturer), str(r.instance.model_name)),
          "device observer");
    check(report.addProcedureReported(CID100_QuantitativeDiagnosticImagingProcedures(code(r.procedure_reported))),
          "procedure reported");

    // Image library: the middle slice (the images the SCOORDs reference); descriptors from its header
    // when the caller gives its path.
    check(report.getImageLibrary().createNewImageLibrary(), "image library");
    check(report.getImageLibrary().addImageGroup(), "image library group");
    {
        DcmFileFormat middleFile;
        DcmItem minimal;
        DcmItem *entry = &minimal;
        TID1600_ImageLibrary::AddImageMode mode = TID1600_ImageLibrary::withoutDescriptors;
        if (r.middle_slice_path && *r.middle_slice_path &&
            middleFile.loadFile(r.middle_slice_path, EXS_Unknown, EGL_noChange, 4096).good()) {
            entry = middleFile.getDataset();
            mode = TID1600_ImageLibrary::withAllDescriptors;
        } else {
            minimal.putAndInsertString(DCM_SOPClassUID, str(r.middle_slice.sop_class_uid).c_str());
            minimal.putAndInsertString(DCM_SOPInstanceUID, str(r.middle_slice.sop_instance_uid).c_str());
            OFString modality;
            if (source.findAndGetOFString(DCM_Modality, modality).good()) minimal.putAndInsertString(DCM_Modality, modality.c_str());
        }
        check(report.getImageLibrary().addImageEntry(*entry, mode), "image library entry");
    }

    const DSRImageReferenceValue middleRef = cdicom::imageReference(r.middle_slice);
    for (size_t i = 0; i < r.level_count; ++i) {
        const cdicom_sr_level &l = r.levels[i];
        check(report.addIndividualMeasurements(), "measurement group");
        CMR_TID1501_in_TID1500 &group = report.getIndividualMeasurements();
        check(group.setTrackingIdentifier(str(l.tracking_identifier)), "tracking identifier");
        check(group.setTrackingUniqueIdentifier(str(l.tracking_uid)), "tracking unique identifier");
        check(group.addFindingSite(code(l.finding_site)), "finding site");

        struct { const cdicom_code *concept; const cdicom_code *unit; const char *value; } nums[] = {
            {&r.peak_confidence_concept, &r.peak_confidence_unit, l.peak_confidence},
            {&r.entropy_concept, &r.entropy_unit, l.entropy},
            {&r.spatial_entropy_concept, &r.spatial_entropy_unit, l.spatial_entropy},
        };
        for (size_t k = 0; k < 3; ++k) {
            CMR_TID1501_in_TID1500::MeasurementValue value(
                str(nums[k].value), CID7181_AbstractMultiDimensionalImageModelComponentUnits(code(*nums[k].unit)), OFFalse);
            check(group.addMeasurement(CID7469_GenericIntensityAndSizeMeasurements(code(*nums[k].concept)), value,
                                       OFTrue, OFFalse),
                  std::string("measurement ") + str(nums[k].concept->meaning));
            if (k != 0) continue;
            // The detected point (or, without one, the image) as the source of the peak confidence:
            // TID 300 INFERRED FROM TID 320 (SCOORD POINT SELECTED FROM IMAGE).
            CMR_TID300_in_TID1501_in_TID1500 &m = group.getMeasurement();
            if (l.has_point) {
                DSRSpatialCoordinatesValue point(DSRTypes::GT_Point);
                point.getGraphicDataList().addItem(l.point_column, l.point_row);
                check(m.addSpatialCoordinates(code(r.purpose_of_reference), point, middleRef), "point");
            } else {
                check(m.addImage(code(r.purpose_of_reference), middleRef), "image reference");
            }
        }
    }
    const bool hasAssessment = r.assessment_tracking_uid && *r.assessment_tracking_uid && r.assessment_count > 0;
    if (hasAssessment) {
        // The series-level numbers (suspicion, lumbar count, junction) as one more TID 1501 group,
        // inferred from the middle slice.
        check(report.addIndividualMeasurements(), "assessment group");
        CMR_TID1501_in_TID1500 &group = report.getIndividualMeasurements();
        check(group.setTrackingIdentifier(str(r.assessment_tracking_identifier)), "assessment tracking identifier");
        check(group.setTrackingUniqueIdentifier(str(r.assessment_tracking_uid)), "assessment tracking unique identifier");
        for (size_t k = 0; k < r.assessment_count; ++k) {
            const cdicom_sr_num &n = r.assessment[k];
            CMR_TID1501_in_TID1500::MeasurementValue value(
                str(n.value), CID7181_AbstractMultiDimensionalImageModelComponentUnits(code(n.unit)), OFFalse);
            check(group.addMeasurement(CID7469_GenericIntensityAndSizeMeasurements(code(n.concept)), value, OFTrue, OFFalse),
                  std::string("assessment ") + str(n.concept.meaning));
            if (k == 0) check(group.getMeasurement().addImage(code(r.purpose_of_reference), middleRef), "assessment image reference");
        }
    }
    check(report.addQualitativeEvaluation(code(r.suspicion_concept), code(r.suspicion_value)), "LSTV suspicion");
    check(report.addQualitativeEvaluation(code(r.ladder_concept), code(r.ladder_value)), "ladder consistency");
    // Why the suspicion rose and why the ladder is not consistent, in words a reader can check on
    // the images (TEXT, UT value).
    for (size_t i = 0; i < r.finding_count; ++i)
        check(report.addQualitativeEvaluation(code(r.findings[i].concept), OFString(str(r.findings[i].text).c_str())),
              "finding");
    if (!report.isValid()) throw Failure{"TID 1500 report is incomplete"};

    // ---- document ----
    // The cmr template sets its own document type (Enhanced SR); the requested class is applied after
    // (DCMTK checks that the tree conforms to its relationship constraints).
    const DSRTypes::E_DocumentType type = r.enhanced ? DSRTypes::DT_EnhancedSR : DSRTypes::DT_Comprehensive3DSR;
    DSRDocument doc(type);
    check(doc.setTreeFromRootTemplate(report, OFTrue /* expand */), "document tree");
    if (doc.getDocumentType() != type) check(doc.changeDocumentType(type), "document class");
    DSRDocumentTree &tree = doc.getTree();
    const DSRCodedEntryValue trackingUID("112040", "DCM", "Tracking Unique Identifier");
    for (size_t i = 0; i < r.level_count; ++i) {
        if (!gotoGroup(tree, trackingUID, str(r.levels[i].tracking_uid)))
            throw Failure{"measurement group " + str(r.levels[i].tracking_identifier) + " not found in the tree"};
        addAlgorithmIdentification(tree, r);
    }
    if (hasAssessment) {
        if (!gotoGroup(tree, trackingUID, str(r.assessment_tracking_uid))) throw Failure{"assessment group not found in the tree"};
        addAlgorithmIdentification(tree, r);
    }

    cdicom::describeDocument(doc, r.instance);
    check(doc.completeDocument(), "completion flag");

    for (size_t i = 0; i < r.evidence_count; ++i) {
        const cdicom_instance_ref &e = r.evidence[i];
        check(doc.getCurrentRequestedProcedureEvidence().addItem(str(e.study_instance_uid), str(e.series_instance_uid),
                                                                 str(e.sop_class_uid), str(e.sop_instance_uid)),
              "evidence");
    }
    if (r.predecessor) {
        const cdicom_instance_ref &p = *r.predecessor;
        check(doc.getPredecessorDocuments().addItem(str(p.study_instance_uid), str(p.series_instance_uid),
                                                    str(p.sop_class_uid), str(p.sop_instance_uid)),
              "predecessor");
    }
    DSRCodingSchemeIdentificationList &schemes = doc.getCodingSchemeIdentification();
    for (size_t i = 0; i < r.coding_scheme_count; ++i) {
        const cdicom_coding_scheme &s = r.coding_schemes[i];
        check(schemes.addItem(str(s.designator), str(s.uid), str(s.name), str(s.responsible_organization)),
              "coding scheme " + str(s.designator));
        if (s.version && *s.version) check(schemes.setCodingSchemeVersion(s.version), "coding scheme version");
    }

    DcmFileFormat out;
    DcmDataset &ds = *out.getDataset();
    check(doc.write(ds), "cannot encode the SR document");
    cdicom::copyPatientAndStudy(source, ds);
    cdicom::restoreUIDs(ds, r.instance);
    addContributingEquipment(ds, r);
    cdicom::savePart10(out, path);
}

}  // namespace

int cdicom_sr_write(const cdicom_sr_report *report, const char *path, char *err, size_t err_len) {
    return cdicom::guarded(err, err_len, [&] { write(*report, path); });
}
