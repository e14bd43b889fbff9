// DCMTK behind a C interface, the writing side: a case's findings as a TID 1500 Measurement Report (Comprehensive
// 3D SR, dcmsr and its CMR templates) and as a Grayscale Softcopy Presentation State (dcmpstat), in the source
// image's study. Every failure is a one-line error; no exception leaves this file.
#include "CDicomFindings.h"
#include "CDicom.h"

#include <dcmtk/config/osconfig.h>
#include <dcmtk/dcmdata/dctk.h>
#include <dcmtk/dcmpstat/dcmpstat.h>
#include <dcmtk/dcmpstat/dvpsgr.h>
#include <dcmtk/dcmpstat/dvpssv.h>
#include <dcmtk/dcmpstat/dvpstx.h>
#include <dcmtk/dcmsr/cmr/cid5000.h>
#include <dcmtk/dcmsr/cmr/tid1500.h>
#include <dcmtk/dcmsr/codes/dcm.h>
#include <dcmtk/dcmsr/dsrdoc.h>
#include <dcmtk/oflog/oflog.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <mutex>
#include <stdexcept>
#include <string>
#include <vector>

namespace {

/// A failure on the way to the file; caught at the C boundary and turned into the one-line error.
struct Failure : std::runtime_error {
    using std::runtime_error::runtime_error;
};

void require(const OFCondition &condition, const std::string &what) {
    if (condition.bad()) throw Failure(what + ": " + condition.text());
}

int fail(char error[256], const std::string &message) {
    std::string line = message;
    for (char &c : line) if (c == '\n' || c == '\r') c = ' ';
    std::snprintf(error, 256, "%s", line.c_str());
    return -1;
}

std::once_flag quietened;

void quietenLogs() {
    // DCMTK logs to stderr by default; fracview reports its own one-line errors.
    std::call_once(quietened, [] { OFLog::configure(OFLogger::FATAL_LOG_LEVEL); });
}

constexpr const char *kScheme = "99FRACVIEW";
constexpr const char *kManufacturer = "fracview";
constexpr const char *kModelName = "fracview FractureClassifier";
/// The Comprehensive 3D SR's SOP class: also the class a predecessor SR is referenced with (fracview writes only
/// this kind).
constexpr const char *kSRClass = UID_Comprehensive3DSRStorage;

/// Valid UTF-8 without control characters or backslashes (DICOM's value separator): what every string given to
/// us must be before it becomes a value.
bool plainText(const char *s) {
    const unsigned char *p = reinterpret_cast<const unsigned char *>(s);
    while (*p) {
        unsigned c = *p;
        int extra = c < 0x80 ? 0 : (c >> 5) == 0x6 ? 1 : (c >> 4) == 0xe ? 2 : (c >> 3) == 0x1e ? 3 : -1;
        if (extra < 0) return false;
        if (extra == 0 && (c < 0x20 || c == 0x7f || c == '\\')) return false;
        p++;
        for (int i = 0; i < extra; i++, p++) {
            if ((*p & 0xc0) != 0x80) return false;
        }
    }
    return true;
}

/// The string, checked; NULL and "" are refused unless `nullable` (then both give "").
std::string text(const char *s, const char *name, bool nullable = false) {
    if (s == nullptr || *s == '\0') {
        if (nullable) return "";
        throw Failure(std::string(name) + " is missing");
    }
    if (!plainText(s)) throw Failure(std::string(name) + " is not plain UTF-8 text (control characters or a backslash)");
    return s;
}

/// At most `limit` characters (not bytes) of UTF-8 text: a value's VR length.
std::string clipped(const std::string &s, size_t limit) {
    size_t chars = 0, i = 0;
    for (; i < s.size(); i++) {
        if ((static_cast<unsigned char>(s[i]) & 0xc0) != 0x80 && chars++ == limit) break;
    }
    return s.substr(0, i);
}

std::string uid(const char *s, const char *name) {
    const std::string value = text(s, name);
    if (value.size() > 64 || DcmUniqueIdentifier::checkStringValue(value.c_str(), "1").bad()) {
        throw Failure(std::string(name) + " is not a DICOM UID: " + value);
    }
    return value;
}

/// A DICOM DT "YYYYMMDDHHMMSS[.FFFFFF]" split into DA and TM (the fraction is dropped).
struct DateTime {
    std::string date, time, dt;
};

DateTime dateTime(const char *s, const char *name) {
    const std::string value = text(s, name);
    bool digits = value.size() >= 14;
    for (size_t i = 0; digits && i < 14; i++) digits = value[i] >= '0' && value[i] <= '9';
    if (!digits || DcmDateTime::checkStringValue(value.c_str(), "1").bad()) {
        throw Failure(std::string(name) + " is not a DICOM date-time YYYYMMDDHHMMSS: " + value);
    }
    return {value.substr(0, 8), value.substr(8, 6), value.substr(0, 14)};
}

/// A "2.25" UID from a 128-bit hash of `key` (FNV-1a): the same key always names the same thing, so a finding
/// keeps its tracking UID across the SRs that supersede each other, and the algorithm its device UID.
std::string hashedUID(const std::string &key) {
    unsigned __int128 hash = (static_cast<unsigned __int128>(0x6c62272e07bb0142ULL) << 64) | 0x62b821756295c58dULL;
    const unsigned __int128 prime = (static_cast<unsigned __int128>(1) << 88) | 0x13b;
    for (unsigned char c : key) {
        hash ^= c;
        hash *= prime;
    }
    std::string digits;
    do {
        digits.insert(digits.begin(), static_cast<char>('0' + static_cast<int>(hash % 10)));
        hash /= 10;
    } while (hash != 0);
    return "2.25." + digits;
}

std::string fixed(double value, int decimals) {
    char buffer[64];
    std::snprintf(buffer, sizeof buffer, "%.*f", decimals, value);
    return buffer;
}

double probability(double value, const char *name) {
    if (!std::isfinite(value) || value < 0 || value > 1) {
        throw Failure(std::string(name) + " is not a probability in 0...1: " + std::to_string(value));
    }
    return value;
}

/// A box as a closed rectangle, clamped to the image: 5 points (column, row) from the top-left corner clockwise.
std::vector<Float32> rectangle(const cdicom_box &box, Uint16 columns, Uint16 rows, const char *name) {
    if (!std::isfinite(box.x0) || !std::isfinite(box.y0) || !std::isfinite(box.x1) || !std::isfinite(box.y1)) {
        throw Failure(std::string(name) + " has a non-finite coordinate");
    }
    auto clamp = [](double v, double hi) { return static_cast<Float32>(std::min(std::max(v, 0.0), hi)); };
    const Float32 left = clamp(std::min(box.x0, box.x1), columns), right = clamp(std::max(box.x0, box.x1), columns);
    const Float32 top = clamp(std::min(box.y0, box.y1), rows), bottom = clamp(std::max(box.y0, box.y1), rows);
    return {left, top, right, top, right, bottom, left, bottom, left, top};
}

/// A code in fracview's own scheme; DCMTK writes a value over 16 characters as a Long Code Value (UC, unlimited),
/// and the meaning (LO) is cut to its 64 characters.
DSRCodedEntryValue fracviewCode(const std::string &value, const std::string &meaning) {
    DSRCodedEntryValue code;
    require(code.setCode(value, kScheme, clipped(meaning, 64)), "code \"" + value + "\"");
    return code;
}

/// The source image: its data set (strings in UTF-8) and what the objects reference.
struct Source {
    DcmFileFormat file;
    DcmDataset *dataset = nullptr;
    OFString studyUID, seriesUID, classUID, instanceUID, modality;
    Uint16 rows = 0, columns = 0;
    Sint32 frames = 1;
};

void loadSource(const char *path, Source &source) {
    const std::string where = text(path, "source_path");
    // fracview's decoder first: it refuses what DCMTK cannot read safely (deep nesting, deflate, lengths past the
    // end of the file) and files without an image, with its own one-line reasons.
    cdicom_image image;
    if (cdicom_decode_file(where.c_str(), 50000000LL, &image) != 0) {
        const std::string reason = image.error;
        cdicom_free(&image);
        throw Failure("source image: " + reason);
    }
    cdicom_free(&image);
    // Elements over 4 KiB (the pixel data) stay on disk.
    require(source.file.loadFile(where.c_str(), EXS_Unknown, EGL_noChange, DCM_MaxReadLength, ERM_autoDetect),
            "source image");
    // Both objects are UTF-8 (ISO_IR 192): the reviewer's name may be anything.
    require(source.file.convertToUTF8(), "source image's character set");
    source.dataset = source.file.getDataset();
    DcmDataset &d = *source.dataset;
    auto need = [&](const DcmTagKey &tag, OFString &value, const char *name) {
        if (d.findAndGetOFString(tag, value).bad() || value.empty()) throw Failure(std::string("source image has no ") + name);
    };
    need(DCM_StudyInstanceUID, source.studyUID, "Study Instance UID");
    need(DCM_SeriesInstanceUID, source.seriesUID, "Series Instance UID");
    need(DCM_SOPClassUID, source.classUID, "SOP Class UID");
    need(DCM_SOPInstanceUID, source.instanceUID, "SOP Instance UID");
    d.findAndGetOFString(DCM_Modality, source.modality);
    if (d.findAndGetUint16(DCM_Rows, source.rows).bad() || d.findAndGetUint16(DCM_Columns, source.columns).bad() ||
        source.rows == 0 || source.columns == 0) {
        throw Failure("source image has no Rows/Columns");
    }
    if (d.findAndGetSint32(DCM_NumberOfFrames, source.frames).bad() || source.frames < 1) source.frames = 1;
}

/// Replaces (or adds) a string element of the written data set.
void put(DcmItem &item, const DcmTagKey &tag, const std::string &value) {
    require(item.putAndInsertOFStringArray(tag, value.c_str()), std::string("writing ") + DcmTag(tag).getTagName());
}

/// The study's own description and identifiers, copied where DCMTK's modules left them out: a PACS updates a
/// study's attributes from its newest instance, so an object without them would blank the study's description.
void copyStudyAttributes(const Source &source, DcmItem &dataset) {
    const DcmTagKey tags[] = {DCM_StudyDescription, DCM_StudyID, DCM_AccessionNumber, DCM_ReferringPhysicianName,
                              DCM_StudyDate, DCM_StudyTime, DCM_PatientName, DCM_PatientID, DCM_PatientBirthDate,
                              DCM_PatientSex, DCM_IssuerOfPatientID};
    for (const DcmTagKey &tag : tags) {
        OFString value, present;
        if (source.dataset->findAndGetOFStringArray(tag, value).bad() || value.empty()) continue;
        if (dataset.findAndGetOFStringArray(tag, present).good() && !present.empty()) continue;
        put(dataset, tag, value.c_str());
    }
}

void save(DcmFileFormat &file, const char *outPath) {
    const std::string where = text(outPath, "out_path");
    require(file.saveFile(where.c_str(), EXS_LittleEndianExplicit, EET_ExplicitLength, EGL_recalcGL, EPD_withoutPadding),
            "writing " + where);
}

// MARK: - The SR

/// Algorithm Identification (TID 4019): two items after the cursor, on its level; the cursor ends on the last.
void addAlgorithmIdentification(DSRDocumentTree &tree, const std::string &version) {
    require(tree.addContentItem(DSRTypes::RT_hasConceptMod, DSRTypes::VT_Text, CODE_DCM_AlgorithmName), "algorithm name");
    require(tree.getCurrentContentItem().setStringValue(kModelName), "algorithm name");
    require(tree.addContentItem(DSRTypes::RT_hasConceptMod, DSRTypes::VT_Text, CODE_DCM_AlgorithmVersion),
            "algorithm version");
    require(tree.getCurrentContentItem().setStringValue(version), "algorithm version");
}

/// An IMAGE reference to the source below the current node (a SCOORD's SELECTED FROM, or a named CONTAINS).
void addImageReference(DSRDocumentTree &tree, const Source &source, DSRTypes::E_RelationshipType relation,
                       const DSRCodedEntryValue *name) {
    if (tree.addContentItem(relation, DSRTypes::VT_Image, DSRTypes::AM_belowCurrent) == 0) {
        throw Failure("cannot add the image reference to the SR tree");
    }
    DSRContentItem &item = tree.getCurrentContentItem();
    if (name != nullptr) require(item.setConceptName(*name), "image reference");
    require(item.setImageReference(DSRImageReferenceValue(source.classUID, source.instanceUID)), "image reference");
}

/// One TID 1410 Planar ROI measurement group per model box, appended to Imaging Measurements: tracking, finding,
/// algorithm, the IMAGE REGION (a closed POLYLINE SCOORD selected from the source) and the box's probability.
void addPlanarROIGroup(DSRDocumentTree &tree, const Source &source, const cdicom_box &box, int index,
                       const std::string &finding, const std::string &version) {
    if (tree.gotoNamedNode(CODE_DCM_ImagingMeasurements) == 0) throw Failure("the SR has no Imaging Measurements");
    require(tree.addChildContentItem(DSRTypes::RT_contains, DSRTypes::VT_Container, CODE_DCM_MeasurementGroup),
            "measurement group");
    require(tree.getCurrentContentItem().setTemplateIdentification("1410", "DCMR", UID_DICOMContentMappingResource),
            "measurement group");
    const std::string tracking = "fracview box " + std::to_string(index + 1);
    require(tree.addChildContentItem(DSRTypes::RT_hasObsContext, DSRTypes::VT_Text, CODE_DCM_TrackingIdentifier),
            "tracking identifier");
    require(tree.getCurrentContentItem().setStringValue(tracking), "tracking identifier");
    require(tree.addContentItem(DSRTypes::RT_hasObsContext, DSRTypes::VT_UIDRef, CODE_DCM_TrackingUniqueIdentifier),
            "tracking UID");
    require(tree.getCurrentContentItem().setStringValue(hashedUID(std::string(source.instanceUID.c_str()) + "/" + tracking)),
            "tracking UID");
    if (!finding.empty()) {
        require(tree.addContentItem(DSRTypes::RT_contains, DSRTypes::VT_Code, CODE_DCM_Finding), "finding");
        require(tree.getCurrentContentItem().setCodeValue(fracviewCode(finding, finding)), "finding");
    }
    addAlgorithmIdentification(tree, version);

    require(tree.addContentItem(DSRTypes::RT_contains, DSRTypes::VT_SCoord, CODE_DCM_ImageRegion), "image region");
    DSRSpatialCoordinatesValue region(DSRTypes::GT_Polyline);
    const std::vector<Float32> points = rectangle(box, source.columns, source.rows, "a model box");
    for (size_t i = 0; i < points.size(); i += 2) region.getGraphicDataList().addItem(points[i], points[i + 1]);
    require(tree.getCurrentContentItem().setSpatialCoordinates(region), "image region");
    addImageReference(tree, source, DSRTypes::RT_selectedFrom, nullptr);
    tree.goUp();

    require(tree.addContentItem(DSRTypes::RT_contains, DSRTypes::VT_Num, CODE_DCM_Probability), "box probability");
    const DSRNumericMeasurementValue score(fixed(probability(box.score, "a model box's score"), 4),
                                           DSRCodedEntryValue("1", "UCUM", "no units"));
    require(tree.getCurrentContentItem().setNumericValue(score), "box probability");
}

/// The Contributing Equipment Sequence item that names the algorithm (IHE AIR: Purpose "Processing Algorithm").
void addContributingEquipment(DcmItem &dataset, const std::string &softwareVersions, const DateTime &when) {
    DcmItem *item = nullptr;
    require(dataset.findOrCreateSequenceItem(DCM_ContributingEquipmentSequence, item, -2), "contributing equipment");
    put(*item, DCM_Manufacturer, kManufacturer);
    put(*item, DCM_ManufacturerModelName, kModelName);
    put(*item, DCM_SoftwareVersions, softwareVersions);
    put(*item, DCM_ContributionDateTime, when.dt);
    put(*item, DCM_ContributionDescription, "fracview fracture classification");
    DcmItem *purpose = nullptr;
    require(item->findOrCreateSequenceItem(DCM_PurposeOfReferenceCodeSequence, purpose, -2), "contributing equipment");
    put(*purpose, DCM_CodeValue, "Newcode1");
    put(*purpose, DCM_CodingSchemeDesignator, "99IHE");
    put(*purpose, DCM_CodeMeaning, "Processing Algorithm");
}

void writeSR(const cdicom_findings &f, const char *outPath) {
    const std::string seriesUID = uid(f.sr_series_uid, "sr_series_uid"), instanceUID = uid(f.sr_instance_uid, "sr_instance_uid");
    const DateTime content = dateTime(f.content_datetime, "content_datetime");
    const std::string modelClass = text(f.model_class, "model_class", true);
    const std::string decision = text(f.decision, "decision", true);
    const std::string decidedClass = text(f.decided_class, "decided_class", true);
    const std::string reviewer = text(f.reviewer, "reviewer", true);
    const std::string version = text(f.software_version, "software_version");
    const std::string weights = text(f.weights_id, "weights_id");
    const std::string softwareVersions = version + "\\weights " + weights;
    const std::string algorithmVersion = version + " (weights " + weights + ")";
    if (!decision.empty() && decision != "accepted" && decision != "flagged" && decision != "relabelled") {
        throw Failure("decision must be accepted, flagged or relabelled, not " + decision);
    }
    if (!decision.empty() && reviewer.empty()) throw Failure("a decision needs a reviewer");
    if (modelClass.empty() && decision.empty()) throw Failure("nothing to report: no model result and no decision");
    if (f.model_box_count < 0 || (f.model_box_count > 0 && f.model_boxes == nullptr)) throw Failure("bad model boxes");
    const bool hasPredecessor = f.predecessor_sr_instance_uid != nullptr || f.predecessor_sr_series_uid != nullptr;
    const DateTime decided = f.decision_datetime != nullptr ? dateTime(f.decision_datetime, "decision_datetime") : content;
    Source source;
    loadSource(f.source_path, source);

    // TID 1500 through DCMTK's CMR templates: observation context (TID 1001), procedure, image library (TID 1600)
    // and one TID 1501 group holding the image-level finding, its probability and the review.
    TID1500_MeasurementReport report(CMR_CID7021::ImagingMeasurementReport);
    require(report.setLanguage(CID5000_Languages::English), "report language");
    TID1001_ObservationContext &context = report.getObservationContext();
    require(context.addDeviceObserver(hashedUID(std::string(kModelName) + "/" + softwareVersions), kManufacturer,
                                      kManufacturer, kModelName),
            "device observer");
    if (!decision.empty()) require(context.addPersonObserver(reviewer, kManufacturer), "person observer (reviewer)");
    const bool radiograph = source.modality == "DX" || source.modality == "CR" || source.modality == "RG" ||
                            source.modality == "MG" || source.modality == "IO" || source.modality == "PX";
    require(report.addProcedureReported(radiograph ? DSRCodedEntryValue("168537006", "SCT", "Plain radiography")
                                                   : DSRCodedEntryValue("363679005", "SCT", "Imaging procedure")),
            "procedure reported");
    TID1600_ImageLibrary &library = report.getImageLibrary();
    require(library.createNewImageLibrary(), "image library");
    require(library.addImageGroup(), "image library");
    const OFCondition entry = library.addImageEntry(*source.dataset, TID1600_ImageLibrary::withAllDescriptors);
    if (entry != CMR_EC_NoImageLibraryEntryDescriptorsToBeAdded) require(entry, "image library entry");

    TID1500_MeasurementReport::TID1501_Measurements &group = report.getIndividualMeasurements();
    require(group.setTrackingIdentifier("fracview finding"), "tracking identifier");
    require(group.setTrackingUniqueIdentifier(hashedUID(std::string(source.instanceUID.c_str()) + "/fracview finding")),
            "tracking UID");
    if (!modelClass.empty()) {
        require(group.setFinding(fracviewCode(modelClass, modelClass)), "finding");
        const TID1500_MeasurementReport::TID1501_Measurements::MeasurementValue value(
            fixed(probability(f.model_probability, "model_probability"), 4),
            CID7181_AbstractMultiDimensionalImageModelComponentUnits(DSRCodedEntryValue("1", "UCUM", "no units")));
        require(group.addMeasurement(CID7469_GenericIntensityAndSizeMeasurements(DSRCodedEntryValue(CODE_DCM_Probability)),
                                     value),
                "model probability");
    }
    if (!decision.empty()) {
        require(group.addQualitativeEvaluation(fracviewCode("DECISION", "Review decision"), fracviewCode(decision, decision)),
                "decision");
    }
    if (!decidedClass.empty()) {
        require(group.addQualitativeEvaluation(fracviewCode("DECIDEDCLASS", "Reviewer class"),
                                               fracviewCode(decidedClass, decidedClass)),
                "decided class");
    }

    DSRDocument document(DSRTypes::DT_Comprehensive3DSR);
    require(document.setTreeFromRootTemplate(report), "SR content tree");
    // The template makes an Enhanced SR; the boxes' SCOORDs and a PACS's expectations want Comprehensive 3D.
    require(document.changeDocumentType(DSRTypes::DT_Comprehensive3DSR), "SR document type");

    // What the CMR classes of DCMTK 3.6.7 do not offer is added to the expanded tree: the TID 1501 group's source
    // image and algorithm, and TID 1410 (Planar ROI) groups for the boxes.
    DSRDocumentTree &tree = document.getTree();
    if (tree.gotoNamedNode(CODE_DCM_MeasurementGroup) == 0) throw Failure("the SR has no measurement group");
    const DSRCodedEntryValue sourceOfMeasurement(CODE_DCM_SourceOfMeasurement);
    addImageReference(tree, source, DSRTypes::RT_contains, &sourceOfMeasurement);
    addAlgorithmIdentification(tree, algorithmVersion);
    for (int i = 0; i < f.model_box_count; i++) {
        const cdicom_box &box = f.model_boxes[i];
        const std::string label = text(box.label, "a model box's label", true);
        addPlanarROIGroup(tree, source, box, i, label.empty() ? modelClass : label, algorithmVersion);
    }

    // Patient and study from the source; a new series.
    require(document.readStudyData(*source.dataset), "source image's patient and study");
    require(document.setSpecificCharacterSetType(DSRTypes::CS_UTF8), "character set");
    require(document.setSeriesNumber(std::to_string(f.sr_series_number)), "series number");
    require(document.setInstanceNumber("1"), "instance number");
    require(document.setSeriesDescription("fracview findings"), "series description");
    require(document.setContentDate(content.date), "content date");
    require(document.setContentTime(content.time), "content time");
    require(document.setTimezoneOffsetFromUTC("+0000"), "timezone");
    require(document.setManufacturer(kManufacturer), "manufacturer");
    require(document.setManufacturerModelName(kModelName), "model name");
    require(document.setSoftwareVersions(softwareVersions), "software versions");
    DSRCodingSchemeIdentificationList &schemes = document.getCodingSchemeIdentification();
    require(schemes.addItem(kScheme), "coding scheme");
    require(schemes.setCodingSchemeName("fracview classes and review codes"), "coding scheme");
    require(schemes.setCodingSchemeResponsibleOrganization(kManufacturer), "coding scheme");

    require(document.getCurrentRequestedProcedureEvidence().addItem(source.studyUID, source.seriesUID, source.classUID,
                                                                     source.instanceUID),
            "evidence");
    if (hasPredecessor) {
        require(document.getPredecessorDocuments().addItem(source.studyUID,
                                                           uid(f.predecessor_sr_series_uid, "predecessor_sr_series_uid"),
                                                           kSRClass,
                                                           uid(f.predecessor_sr_instance_uid, "predecessor_sr_instance_uid")),
                "predecessor");
    }
    require(document.completeDocument(), "completion flag");
    if (!decision.empty()) require(document.verifyDocument(reviewer, kManufacturer, decided.dt), "verification");

    DcmFileFormat file;
    DcmDataset &dataset = *file.getDataset();
    require(document.write(dataset), "SR document");
    // DCMTK makes its own UIDs and creation time; the caller's replace them.
    put(dataset, DCM_SeriesInstanceUID, seriesUID);
    put(dataset, DCM_SOPInstanceUID, instanceUID);
    put(dataset, DCM_InstanceCreationDate, content.date);
    put(dataset, DCM_InstanceCreationTime, content.time);
    addContributingEquipment(dataset, softwareVersions, content);
    copyStudyAttributes(source, dataset);
    save(file, outPath);
}

// MARK: - The presentation state

/// dcmpstat's graphic and VOI lists, which DVPresentationState reaches only with a decoded image attached.
class FindingsPresentationState : public DcmPresentationState {
  public:
    void addBox(const char *layer, const Source &source, const cdicom_box &box, const char *name) {
        DVPSGraphicObject *graphic = graphicAnnotationList.addGraphicObject(layer, source.classUID.c_str(),
                                                                            source.instanceUID.c_str(), 1, DVPSB_allImages);
        if (graphic == nullptr) throw Failure("cannot add a graphic object");
        const std::vector<Float32> points = rectangle(box, source.columns, source.rows, name);
        require(graphic->setGraphicType(DVPST_polyline), "graphic type");
        require(graphic->setData(points.size() / 2, points.data(), DVPSA_pixels), "graphic data");
        require(graphic->setFilled(OFFalse), "graphic fill");
    }

    /// A line of text in display units (the displayed area's fractions), or anchored to a pixel when `anchored`.
    void addText(const char *layer, const Source &source, const std::string &value, bool anchored, double x, double y) {
        DVPSTextObject *object = graphicAnnotationList.addTextObject(layer, source.classUID.c_str(),
                                                                     source.instanceUID.c_str(), 1, DVPSB_allImages);
        if (object == nullptr) throw Failure("cannot add a text object");
        require(object->setText(value.c_str()), "text annotation");
        if (anchored) {
            require(object->setAnchorPoint(x, y, DVPSA_pixels, OFFalse), "text anchor");
        } else {
            require(object->setBoundingBox(x, y, std::min(x + 0.6, 1.0), std::min(y + 0.05, 1.0), DVPSA_display, DVPSX_left),
                    "text box");
        }
    }

    void setWindow(const Source &source, double center, double width) {
        DVPSSoftcopyVOI *voi = softcopyVOIList.createSoftcopyVOI(referencedSeriesList, source.classUID.c_str(),
                                                                 source.instanceUID.c_str(), 1,
                                                                 static_cast<unsigned long>(source.frames), DVPSB_allImages);
        if (voi == nullptr) throw Failure("cannot add the VOI window");
        require(voi->setVOIWindow(center, width, "fracview reviewer window"), "VOI window");
    }
};

void writePresentationState(const cdicom_findings &f, const char *outPath) {
    const std::string seriesUID = uid(f.pr_series_uid, "pr_series_uid"), instanceUID = uid(f.pr_instance_uid, "pr_instance_uid");
    const DateTime content = dateTime(f.content_datetime, "content_datetime");
    const std::string modelClass = text(f.model_class, "model_class", true);
    const std::string decidedClass = text(f.decided_class, "decided_class", true);
    const std::string reviewer = text(f.reviewer, "reviewer", true);
    const std::string version = text(f.software_version, "software_version");
    const std::string weights = text(f.weights_id, "weights_id");
    if (f.model_box_count < 0 || (f.model_box_count > 0 && f.model_boxes == nullptr)) throw Failure("bad model boxes");
    if (f.label_box_count < 0 || (f.label_box_count > 0 && f.label_boxes == nullptr)) throw Failure("bad label boxes");
    if (f.has_window && (!std::isfinite(f.window_center) || !std::isfinite(f.window_width) || f.window_width < 1)) {
        throw Failure("the window needs a finite center and a width of at least 1");
    }
    Source source;
    loadSource(f.source_path, source);

    OFString photometric;
    source.dataset->findAndGetOFString(DCM_PhotometricInterpretation, photometric);
    if (photometric != "MONOCHROME1" && photometric != "MONOCHROME2") {
        throw Failure("a grayscale presentation state needs a MONOCHROME1/2 image, not " +
                      std::string(photometric.empty() ? "one without a photometric interpretation" : photometric.c_str()));
    }
    FindingsPresentationState state;
    // The image's own VOI (window or LUT) is copied unless the reviewer's replaces it; overlays and curves are not
    // ours to repeat.
    OFCondition created = state.createFromImage(*source.dataset, DVPSO_ignoreOverlays,
                                                f.has_window ? DVPSV_ignoreVOI : DVPSV_preferVOILUT, OFFalse, OFTrue, OFTrue,
                                                DVPSG_oneLayer);
    if (created.bad()) {
        throw Failure(std::string("cannot make a presentation state for this image: ") + created.text());
    }
    if (f.has_window) state.setWindow(source, f.window_center, f.window_width);

    std::string line = modelClass.empty() ? "" : modelClass + " " + fixed(probability(f.model_probability, "model_probability"), 2);
    if (!decidedClass.empty() && decidedClass != modelClass) {
        line += (line.empty() ? "" : " / ") + std::string("reviewer: ") + decidedClass;
    }
    // Each new layer goes in front: the labels first, the model's boxes and text drawn over them.
    if (f.label_box_count > 0) {
        require(state.addGraphicLayer("LABELS", "dataset label boxes"), "graphic layer LABELS");
        for (int i = 0; i < f.label_box_count; i++) {
            const cdicom_box &box = f.label_boxes[i];
            state.addBox("LABELS", source, box, "a label box");
            const std::string label = text(box.label, "a label box's label", true);
            if (!label.empty()) {
                const std::vector<Float32> points = rectangle(box, source.columns, source.rows, "a label box");
                state.addText("LABELS", source, label, true, points[0], points[1]);
            }
        }
    }
    if (f.model_box_count > 0 || !line.empty()) {
        require(state.addGraphicLayer("MODEL", "fracview model: class, probability and boxes"), "graphic layer MODEL");
        for (int i = 0; i < f.model_box_count; i++) {
            probability(f.model_boxes[i].score, "a model box's score");
            state.addBox("MODEL", source, f.model_boxes[i], "a model box");
        }
        if (!line.empty()) state.addText("MODEL", source, line, false, 0.02, 0.02);
    }
    require(state.setPresentationLabel("FRACVIEW"), "content label");
    const std::string description = clipped(modelClass.empty() ? "fracview review" : "fracview: " + modelClass, 64);
    require(state.setPresentationDescription(description.c_str()), "content description");
    // Put into the data set below: dcmpstat knows no UTF-8 (ISO_IR 192), which both objects use.
    const std::string creator = reviewer.empty() ? kManufacturer : reviewer;

    DcmFileFormat file;
    DcmDataset &dataset = *file.getDataset();
    require(state.write(dataset, OFFalse), "presentation state");
    put(dataset, DCM_SpecificCharacterSet, "ISO_IR 192");
    put(dataset, DCM_ContentCreatorName, creator);
    put(dataset, DCM_SeriesInstanceUID, seriesUID);
    put(dataset, DCM_SOPInstanceUID, instanceUID);
    put(dataset, DCM_SeriesNumber, std::to_string(f.pr_series_number));
    copyStudyAttributes(source, dataset);
    put(dataset, DCM_PresentationCreationDate, content.date);
    put(dataset, DCM_PresentationCreationTime, content.time);
    put(dataset, DCM_InstanceCreationDate, content.date);
    put(dataset, DCM_InstanceCreationTime, content.time);
    put(dataset, DCM_TimezoneOffsetFromUTC, "+0000");
    put(dataset, DCM_SeriesDescription, "fracview findings");
    put(dataset, DCM_Manufacturer, kManufacturer);
    put(dataset, DCM_ManufacturerModelName, kModelName);
    put(dataset, DCM_SoftwareVersions, version + "\\weights " + weights);
    save(file, outPath);
}

template <typename Body>
int guarded(const cdicom_findings *f, const char *outPath, char error[256], Body body) {
    if (error == nullptr) return -1;
    error[0] = '\0';
    if (f == nullptr) return fail(error, "no findings");
    quietenLogs();
    try {
        body(*f, outPath);
        return 0;
    } catch (const std::exception &e) {
        return fail(error, e.what());
    } catch (...) {
        return fail(error, "unexpected error");
    }
}

}  // namespace

extern "C" int cdicom_write_findings_sr(const cdicom_findings *f, const char *out_path, char error[256]) {
    return guarded(f, out_path, error, writeSR);
}

extern "C" int cdicom_write_presentation_state(const cdicom_findings *f, const char *out_path, char error[256]) {
    return guarded(f, out_path, error, writePresentationState);
}
