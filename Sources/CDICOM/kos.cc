// Key Object Selection document writer (PS3.3 A.35.4, TID 2010): the key images of an analysis,
// so that a viewer shows them without reading the SR. The Patient, General Study and Patient Study
// modules are copied from a received instance of the analysed series, as for the SR and the key image.
// Mechanism only: the title, the description and the references come from the caller.
#include "dcmtk/config/osconfig.h"
#include "dcmtk/dcmdata/dctk.h"
#include "dcmtk/dcmsr/dsrdoc.h"
#include "cdicom.h"
#include "util.h"
#include "writer.h"
#include "srdocument.h"

#include <string>

namespace {

using cdicom::check;
using cdicom::Failure;
using cdicom::str;

void write(const cdicom_kos_document &k, const char *path) {
    if (k.reference_count == 0) throw Failure{"a key object selection needs at least one referenced instance"};
    DcmFileFormat sourceFile;
    check(sourceFile.loadFile(str(k.source_path).c_str(), EXS_Unknown, EGL_noChange, 4096), "cannot read source instance");
    DcmDataset &source = *sourceFile.getDataset();

    DSRDocument doc(DSRTypes::DT_KeyObjectSelectionDocument);
    DSRDocumentTree &tree = doc.getTree();
    // TID 2010: the title (CID 7010) on the root CONTAINER, an optional Key Object Description
    // (TEXT), then one IMAGE per selected instance, each CONTAINS.
    if (tree.addContentItem(DSRTypes::RT_isRoot, DSRTypes::VT_Container) == 0) throw Failure{"cannot add the root container"};
    check(tree.getCurrentContentItem().setConceptName(
              DSRCodedEntryValue(str(k.title.value), str(k.title.scheme), str(k.title.meaning))),
          "document title");
    bool first = true;
    auto add = [&](DSRTypes::E_ValueType type, const char *what) {
        const size_t id = tree.addContentItem(DSRTypes::RT_contains, type,
                                              first ? DSRTypes::AM_belowCurrent : DSRTypes::AM_afterCurrent);
        if (id == 0) throw Failure{std::string("cannot add ") + what};
        first = false;
    };
    if (k.description && *k.description) {
        add(DSRTypes::VT_Text, "the key object description");
        check(tree.getCurrentContentItem().setConceptName(
                  DSRCodedEntryValue(str(k.description_concept.value), str(k.description_concept.scheme),
                                     str(k.description_concept.meaning))),
              "key object description concept");
        check(tree.getCurrentContentItem().setStringValue(k.description), "key object description");
    }
    for (size_t i = 0; i < k.reference_count; ++i) {
        const cdicom_instance_ref &r = k.references[i];
        add(DSRTypes::VT_Image, "an image reference");
        check(tree.getCurrentContentItem().setImageReference(cdicom::imageReference(r)),
              "image reference " + str(r.sop_instance_uid));
        // Key Object Document module: every referenced instance is listed in the evidence.
        check(doc.getCurrentRequestedProcedureEvidence().addItem(str(r.study_instance_uid), str(r.series_instance_uid),
                                                                 str(r.sop_class_uid), str(r.sop_instance_uid)),
              "evidence");
    }

    cdicom::describeDocument(doc, k.instance);

    DcmFileFormat out;
    DcmDataset &ds = *out.getDataset();
    check(doc.write(ds), "cannot encode the key object selection document");
    cdicom::copyPatientAndStudy(source, ds);
    cdicom::restoreUIDs(ds, k.instance);
    cdicom::savePart10(out, path);
}

}  // namespace

int cdicom_kos_write(const cdicom_kos_document *document, const char *path, char *err, size_t err_len) {
    return cdicom::guarded(err, err_len, [&] { write(*document, path); });
}
