// The modules a derived object copies from the instance it was made from.
#include "writer.h"

namespace cdicom {
namespace {

// Attributes of the Patient, Clinical Trial Subject, General Study, Patient Study and Clinical Trial
// Study modules that are copied verbatim from the source instance (when present there).
const DcmTagKey kCopiedFromSource[] = {
    DCM_SpecificCharacterSet,  // read for the conversion to UTF-8, not copied
    // Patient
    DCM_PatientName, DCM_PatientID, DCM_IssuerOfPatientID, DCM_IssuerOfPatientIDQualifiersSequence,
    DCM_TypeOfPatientID, DCM_PatientBirthDate, DCM_PatientBirthTime, DCM_PatientSex, DCM_OtherPatientIDsSequence,
    DCM_OtherPatientNames, DCM_EthnicGroup, DCM_PatientComments, DCM_PatientSpeciesDescription,
    DCM_PatientSpeciesCodeSequence, DCM_PatientBreedDescription, DCM_PatientBreedCodeSequence,
    DCM_BreedRegistrationSequence, DCM_ResponsiblePerson, DCM_ResponsiblePersonRole, DCM_ResponsibleOrganization,
    DCM_PatientIdentityRemoved, DCM_DeidentificationMethod, DCM_DeidentificationMethodCodeSequence,
    DCM_QualityControlSubject, DCM_StrainDescription, DCM_StrainNomenclature, DCM_StrainCodeSequence,
    DCM_GeneticModificationsSequence,
    // General Study
    DCM_StudyInstanceUID, DCM_StudyDate, DCM_StudyTime, DCM_ReferringPhysicianName,
    DCM_ReferringPhysicianIdentificationSequence, DCM_ConsultingPhysicianName, DCM_StudyID, DCM_AccessionNumber,
    DCM_IssuerOfAccessionNumberSequence, DCM_StudyDescription, DCM_PhysiciansOfRecord,
    DCM_NameOfPhysiciansReadingStudy, DCM_RequestingService, DCM_ReferencedStudySequence,
    DCM_ProcedureCodeSequence, DCM_ReasonForPerformedProcedureCodeSequence,
    // Patient Study
    DCM_AdmittingDiagnosesDescription, DCM_AdmittingDiagnosesCodeSequence, DCM_PatientAge, DCM_PatientSize,
    DCM_PatientWeight, DCM_PatientSizeCodeSequence, DCM_Occupation, DCM_AdditionalPatientHistory,
    DCM_AdmissionID, DCM_IssuerOfAdmissionIDSequence, DCM_ServiceEpisodeID, DCM_ServiceEpisodeDescription,
    DCM_IssuerOfServiceEpisodeIDSequence, DCM_PatientSexNeutered, DCM_SmokingStatus, DCM_PregnancyStatus,
    DCM_LastMenstrualDate,
};

}  // namespace

void copyPatientAndStudy(DcmDataset &source, DcmDataset &target) {
    // Gathered apart first: the values are in the source's character set, which is converted as a
    // whole below.
    DcmDataset copied;
    for (const DcmTagKey &key : kCopiedFromSource) {
        DcmElement *el = nullptr;
        if (source.findAndGetElement(key, el).good() && el != nullptr)
            copied.insert(OFstatic_cast(DcmElement *, el->clone()), OFTrue);
    }
    // Clinical Trial Subject/Study/Series modules live in group 0012: copied as a whole.
    for (unsigned long i = 0; i < source.card(); ++i) {
        DcmElement *el = source.getElement(i);
        if (el != nullptr && el->getGTag() == 0x0012) copied.insert(OFstatic_cast(DcmElement *, el->clone()), OFTrue);
    }
    // The new object's own text (codes, findings, descriptions) is UTF-8, so the whole object is
    // ISO_IR 192: the copied values are converted from whatever the source declared.
    check(copied.convertToUTF8(), "cannot convert the source's patient and study attributes to UTF-8 "
                                  "(Specific Character Set of the source instance)");
    copied.findAndDeleteElement(DCM_SpecificCharacterSet);
    while (copied.card() > 0) {
        DcmElement *el = copied.remove(0UL);
        target.findAndDeleteElement(el->getTag());
        target.insert(el, OFTrue);
    }
    check(target.putAndInsertString(DCM_SpecificCharacterSet, "ISO_IR 192"), "specific character set");
}

void savePart10(DcmFileFormat &file, const char *path) {
    check(file.saveFile(path, EXS_LittleEndianExplicit, EET_ExplicitLength, EGL_recalcGL, EPD_noChange, 0, 0,
                        EWM_createNewMeta),
          std::string("cannot write ") + path);
}

}  // namespace cdicom
