// Writing a case's findings back as DICOM, for a PACS (IHE AI Results style): a Comprehensive 3D SR rooted in
// TID 1500 (Measurement Report) and a Grayscale Softcopy Presentation State with the boxes, both in the source
// image's study.
#pragma once

#ifdef __cplusplus
extern "C" {
#endif

/// A box in DICOM pixel coordinates: column (x) and row (y), (0,0) the top-left corner of the top-left pixel.
/// Boxes past the image are clamped to it; a non-finite coordinate or score is an error.
typedef struct {
    double x0, y0, x1, y1;
    /// 0...1.
    double score;
    /// The class name (label boxes), or NULL (model boxes: the model's class is used).
    const char *label;
} cdicom_box;

/// One case's findings. Strings are UTF-8; those marked nullable may be NULL.
typedef struct {
    /// The source image (read for its patient, study, series and SOP UIDs and its size).
    const char *source_path;
    const char *sr_series_uid, *sr_instance_uid;
    int sr_series_number;
    const char *pr_series_uid, *pr_instance_uid;
    int pr_series_number;
    /// Nullable (both or neither): the SR this one supersedes (a changed decision), in the same study.
    const char *predecessor_sr_series_uid, *predecessor_sr_instance_uid;
    /// DICOM DT "YYYYMMDDHHMMSS" in UTC: the content, instance and presentation creation date and time.
    const char *content_datetime;
    /// Nullable: no model result.
    const char *model_class;
    /// 0...1 (written with 4 decimals).
    double model_probability;
    /// Nullable (model only: the SR is UNVERIFIED), or "accepted", "flagged", "relabelled" (VERIFIED by `reviewer`).
    const char *decision;
    /// Nullable: the class the reviewer chose.
    const char *decided_class;
    /// Nullable; required with a decision. A DICOM person name, stored as given.
    const char *reviewer;
    /// Nullable DT (content_datetime is used when NULL).
    const char *decision_datetime;
    const char *software_version, *weights_id;
    const cdicom_box *model_boxes;
    int model_box_count;
    const cdicom_box *label_boxes;
    int label_box_count;
    /// 1: the reviewer's VOI window (modality units) goes into the presentation state; 0: the image's own.
    int has_window;
    double window_center, window_width;
} cdicom_findings;

/// Writes the TID 1500 Comprehensive 3D SR to `out_path` (Explicit VR Little Endian, with meta header; writing
/// atomically is the caller's job). 0, or -1 with a one-line error in `error`.
int cdicom_write_findings_sr(const cdicom_findings *f, const char *out_path, char error[256]);

/// Writes the Grayscale Softcopy Presentation State (layers MODEL and LABELS, a text line, the window) to
/// `out_path`, like cdicom_write_findings_sr.
int cdicom_write_presentation_state(const cdicom_findings *f, const char *out_path, char error[256]);

#ifdef __cplusplus
}
#endif
