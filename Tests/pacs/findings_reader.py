"""Reads the findings fracview sends to a PACS, through independent readers: the TID 1500 SR with highdicom
(srread -> Comprehensive3DSR -> MeasurementReport), the presentation state with pydicom (highdicom has no reader
for presentation states). Returns plain dicts for the tests to compare."""
import highdicom as hd
import pydicom
from pydicom.sr.codedict import codes

SCHEME = "99FRACVIEW"
DECISION = hd.sr.CodedConcept("DECISION", SCHEME, "Review decision")
DECIDED_CLASS = hd.sr.CodedConcept("DECIDEDCLASS", SCHEME, "Reviewer class")


def read_sr(path):
    """The SR's values, through highdicom's TID 1500 parsing."""
    sr = hd.sr.srread(path)  # Comprehensive3DSR (raises for other SOP classes)
    report = sr.content  # MeasurementReport (TemplateIdentifier 1500)
    out = {
        "sop_class": sr.SOPClassUID,
        "highdicom_class": type(sr).__name__,
        "report_class": type(report).__name__,
        "study_uid": sr.StudyInstanceUID, "series_uid": sr.SeriesInstanceUID, "instance_uid": sr.SOPInstanceUID,
        "series_number": int(sr.SeriesNumber), "modality": sr.Modality,
        "patient": {"name": str(sr.PatientName), "id": sr.PatientID, "birth_date": sr.PatientBirthDate,
                    "sex": sr.PatientSex},
        "accession": sr.AccessionNumber, "study_date": sr.StudyDate, "study_time": sr.StudyTime,
        "referring": str(sr.ReferringPhysicianName),
        "content_date": sr.ContentDate, "content_time": sr.ContentTime,
        "completion": sr.CompletionFlag, "verification": sr.VerificationFlag,
        "evidence": [list(e) for e in sr.get_evidence()],  # (study, series, instance, class)
        "manufacturer": sr.Manufacturer,
        "transfer_syntax": sr.file_meta.TransferSyntaxUID,
    }
    if "VerifyingObserverSequence" in sr:
        v = sr.VerifyingObserverSequence[0]
        out["verifier"] = {"name": str(v.VerifyingObserverName), "organization": v.VerifyingOrganization,
                           "datetime": v.VerificationDateTime}
    if "PredecessorDocumentsSequence" in sr:
        p = sr.PredecessorDocumentsSequence[0]
        series = p.ReferencedSeriesSequence[0]
        sop = series.ReferencedSOPSequence[0]
        out["predecessor"] = {"study": p.StudyInstanceUID, "series": series.SeriesInstanceUID,
                              "class": sop.ReferencedSOPClassUID, "instance": sop.ReferencedSOPInstanceUID}
    eq = sr.ContributingEquipmentSequence[0]
    purpose = eq.PurposeOfReferenceCodeSequence[0]
    out["contributing_equipment"] = {
        "manufacturer": eq.Manufacturer, "model": eq.ManufacturerModelName,
        "software_versions": list(eq.SoftwareVersions) if eq["SoftwareVersions"].VM > 1 else [eq.SoftwareVersions],
        "purpose": [purpose.CodeValue, purpose.CodingSchemeDesignator, purpose.CodeMeaning]}
    out["observers"] = [o.observer_type.meaning for o in report.get_observer_contexts()]

    # The image-level finding: the TID 1501 group.
    groups = report.get_image_measurement_groups()
    assert len(groups) == 1, f"{len(groups)} TID 1501 groups"
    g = groups[0]
    finding = {"tracking_id": g.tracking_identifier, "tracking_uid": str(g.tracking_uid)}
    if g.finding_type is not None:
        finding["class"] = [g.finding_type.value, g.finding_type.scheme_designator, g.finding_type.meaning]
    for m in g.get_measurements(name=codes.DCM.Probability):
        finding["probability"] = m.value
        finding["probability_unit"] = [m.unit.value, m.unit.scheme_designator]
    for q in g.get_qualitative_evaluations(name=DECISION):
        finding["decision"] = q.value.value
    for q in g.get_qualitative_evaluations(name=DECIDED_CLASS):
        finding["decided_class"] = q.value.value
    finding["source_matches"] = len(report.get_image_measurement_groups(
        referenced_sop_instance_uid=out["evidence"][0][2]))
    out["finding"] = finding

    # The boxes: TID 1410 groups with an SCOORD POLYLINE image region.
    boxes = []
    for p in report.get_planar_roi_measurement_groups():
        roi = p.roi
        ref = roi.ContentSequence[0].ReferencedSOPSequence[0]  # the SCOORD's SELECTED FROM image
        box = {"class": p.finding_type.value if p.finding_type is not None else None,
               "graphic_type": roi.graphic_type.value, "points": roi.value.tolist(),
               "image": [ref.ReferencedSOPClassUID, ref.ReferencedSOPInstanceUID],
               "tracking_uid": str(p.tracking_uid)}
        for m in p.get_measurements(name=codes.DCM.Probability):
            box["score"] = m.value
        boxes.append(box)
    out["boxes"] = boxes
    return out


def read_pr(path):
    """The PR's values, with pydicom."""
    ds = pydicom.dcmread(path)
    out = {
        "sop_class": ds.SOPClassUID, "study_uid": ds.StudyInstanceUID, "series_uid": ds.SeriesInstanceUID,
        "instance_uid": ds.SOPInstanceUID, "series_number": int(ds.SeriesNumber), "modality": ds.Modality,
        "patient_id": ds.PatientID, "patient_name": str(ds.PatientName), "charset": ds.SpecificCharacterSet,
        "content_label": ds.ContentLabel, "content_description": ds.ContentDescription,
        "creator": str(ds.ContentCreatorName),
        "created": ds.PresentationCreationDate + ds.PresentationCreationTime,
        "manufacturer": ds.Manufacturer,
        "referenced": [[s.SeriesInstanceUID, i.ReferencedSOPClassUID, i.ReferencedSOPInstanceUID]
                       for s in ds.ReferencedSeriesSequence for i in s.ReferencedImageSequence],
        "transfer_syntax": ds.file_meta.TransferSyntaxUID,
    }
    out["layers"] = {layer.GraphicLayer: {"order": int(layer.GraphicLayerOrder),
                                          "description": layer.get("GraphicLayerDescription")}
                     for layer in ds.get("GraphicLayerSequence", [])}
    annotations = {}
    for a in ds.get("GraphicAnnotationSequence", []):
        entry = annotations.setdefault(a.GraphicLayer, {"boxes": [], "texts": []})
        for g in a.get("GraphicObjectSequence", []):
            data = [float(v) for v in g.GraphicData]
            entry["boxes"].append({"type": g.GraphicType, "units": g.GraphicAnnotationUnits,
                                   "points": [data[i:i + 2] for i in range(0, len(data), 2)]})
        for t in a.get("TextObjectSequence", []):
            entry["texts"].append(t.UnformattedTextValue)
    out["annotations"] = annotations
    voi = ds.get("SoftcopyVOILUTSequence")
    if voi:
        out["window"] = [float(voi[0].WindowCenter), float(voi[0].WindowWidth)] if "WindowCenter" in voi[0] else "LUT"
    return out
