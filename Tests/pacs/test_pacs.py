"""fracview against a real PACS (Orthanc + DICOMweb): list studies, review them in the real screen, send the
findings back, and read what was sent through independent readers (highdicom, pydicom).

The PACS tests run against a real Orthanc with its DICOMweb plugin (scripts/orthanc.sh, started by
scripts/test.sh) and the real fracview binary ($FRACVIEW_BIN). Without a server they skip, and fail under CI.
(The fixtures live here, not in a conftest.py: training/tests imports its own conftest by name.)"""
import base64
import json
import os
import sqlite3
import subprocess
import sys
import time
import urllib.request

import pydicom
import pytest

from findings_reader import read_pr, read_sr
from tui import Screen

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def _need(var):
    value = os.environ.get(var)
    if not value:
        message = f"${var} is not set: no Orthanc (scripts/orthanc.sh start)"
        if os.environ.get("CI"):
            pytest.fail(message)
        pytest.skip(message)
    return value


@pytest.fixture(scope="session")
def fracview():
    path = os.environ.get("FRACVIEW_BIN") or os.path.join(REPO, ".build", "release", "fracview")
    if not os.path.exists(path):
        pytest.skip(f"no fracview binary at {path} (swift build -c release)")
    return path


@pytest.fixture(scope="session")
def orthanc():
    """The server's DICOMweb URL (with the test user's credentials), REST root and credentials."""
    return {"dicomweb": _need("FRACVIEW_TEST_DICOMWEB_URL"), "rest": _need("FRACVIEW_TEST_ORTHANC_URL"),
            "user": _need("FRACVIEW_TEST_ORTHANC_USER"), "password": _need("FRACVIEW_TEST_ORTHANC_PASSWORD")}


@pytest.fixture
def studies(orthanc, tmp_path):
    """The test studies made from the bundled sample (scripts/fixtures/make_pacs_studies.py), uploaded afresh
    (whatever an earlier test sent into them is deleted first) and deleted afterwards."""
    out = tmp_path / "studies"
    script = os.path.join(REPO, "scripts", "fixtures", "make_pacs_studies.py")
    auth = ["--user", orthanc["user"], "--password", orthanc["password"]]
    subprocess.run([sys.executable, script, str(out), "--delete", orthanc["rest"], "--upload", orthanc["rest"]] + auth,
                   check=True, capture_output=True, text=True)
    with open(out / "studies.json") as f:
        manifest = json.load(f)
    yield manifest
    subprocess.run([sys.executable, script, str(out), "--delete", orthanc["rest"]] + auth, capture_output=True, text=True)


REVIEWER = "Reader^One"
PATIENT = ("Test^Fracture", "FV-TEST-1")


def _env(tmp_path, **extra):
    env = {k: v for k, v in os.environ.items() if not k.startswith("FRACVIEW_DICOMWEB")}
    env.update(HOME=str(tmp_path), FRACVIEW_PACS_CACHE=str(tmp_path / "cache"), USER="tester", NETRC=str(tmp_path / "none"))
    env.update(extra)
    return env


def _run(argv, env, **kw):
    return subprocess.run(argv, env=env, capture_output=True, text=True, timeout=300, **kw)


def _rest(orthanc, method, path, body=None):
    token = base64.b64encode(f"{orthanc['user']}:{orthanc['password']}".encode()).decode()
    req = urllib.request.Request(orthanc["rest"] + path, method=method, data=None if body is None else json.dumps(body).encode(),
                                 headers={"Authorization": "Basic " + token})
    with urllib.request.urlopen(req, timeout=60) as r:
        data = r.read()
    return data


def _sent_objects(orthanc, study, modality, folder):
    """Files of this modality in the study (from Orthanc's REST API, not DICOMweb: an independent path)."""
    ids = json.loads(_rest(orthanc, "POST", "/tools/find",
                           {"Level": "Instance", "Query": {"StudyInstanceUID": study, "Modality": modality}}))
    paths = []
    for i in ids:
        path = os.path.join(folder, f"{modality}-{i}.dcm")
        with open(path, "wb") as f:
            f.write(_rest(orthanc, "GET", f"/instances/{i}/file"))
        paths.append(path)
    return paths


def _image_studies(studies):
    images = [f for f in studies["files"] if f["kind"] != "sr"]
    return sorted({f["study_uid"] for f in images}), images


def test_studies_are_listed_without_patient_data(fracview, orthanc, studies, tmp_path):
    out = _run([fracview, "pacs", "studies", orthanc["dicomweb"], "--json"], _env(tmp_path))
    assert out.returncode == 0, out.stderr
    listed = {s["uid"]: s for s in map(json.loads, out.stdout.splitlines())}
    a = studies["files"][0]["study_uid"]
    assert listed[a]["modalities"] == ["DX", "SR"] and listed[a]["instances"] == 4 and listed[a]["date"] == "20261201"
    assert listed[a]["description"] == "fracview test A"
    assert not any(p in out.stdout for p in PATIENT)
    dated = _run([fracview, "pacs", "studies", orthanc["dicomweb"], "--query", "StudyDate=20261202-"], _env(tmp_path))
    assert dated.returncode == 0 and a not in dated.stdout and "2026-12-02" in dated.stdout, dated.stdout


def test_credentials_are_refused_in_one_line_and_never_shown(fracview, orthanc, studies, tmp_path):
    wrong = orthanc["dicomweb"].replace(orthanc["password"], "not-the-password-xyz")
    out = _run([fracview, "pacs", "studies", wrong], _env(tmp_path))
    assert out.returncode == 1
    assert len(out.stderr.strip().splitlines()) == 1 and "401" in out.stderr, out.stderr
    assert "not-the-password-xyz" not in out.stderr + out.stdout
    # The same server through ~/.netrc, the URL without credentials.
    bare = orthanc["dicomweb"].replace(f"{orthanc['user']}:{orthanc['password']}@", "")
    netrc = tmp_path / "netrc"
    netrc.write_text(f"machine 127.0.0.1 login {orthanc['user']} password {orthanc['password']}\n")
    ok = _run([fracview, "pacs", "studies", bare], _env(tmp_path, NETRC=str(netrc)))
    assert ok.returncode == 0 and "fracview test A" in ok.stdout, ok.stderr
    assert orthanc["password"] not in ok.stdout + ok.stderr
    none = _run([fracview, "pacs", "studies", bare], _env(tmp_path))
    assert none.returncode == 1 and "401" in none.stderr


def _review(fracview, orthanc, study_uids, db, env, keys, expect_decisions, extra=()):
    argv = [fracview, "review", orthanc["dicomweb"], "--db", str(db), "--reviewer", REVIEWER, "--graphics", "blocks", *extra]
    for s in study_uids:
        argv += ["--study", s]
    screen = Screen(argv, env)
    assert screen.wait_for("2026-12-0", 60), screen.text[-2000:]
    # Every case's prediction first (the SQLite review database is also the prediction cache), so that each
    # decision records the model's class.
    deadline = time.time() + 240
    while time.time() < deadline:
        screen.read(0.5)
        with sqlite3.connect(db) as c:
            if c.execute("select count(*) from prediction_cache").fetchone()[0] >= expect_decisions:
                break
    for k in keys:
        screen.key(k, 0.8)
    assert screen.quit() == 0, screen.text[-2000:]
    return screen.text


def test_review_then_send_then_read_back_with_independent_readers(fracview, orthanc, studies, tmp_path):
    uids, images = _image_studies(studies)
    env = _env(tmp_path)
    db = tmp_path / "review.sqlite"
    # Five images in two studies: relabel, flag, relabel, relabel, relabel.
    text = _review(fracview, orthanc, uids, db, env, ["8", "f", "1", "2", "3"], len(images))
    assert "1 non-image object" in text, "the SR in study A is skipped and counted"
    assert not any(p in text for p in PATIENT), "the case list shows no patient data"
    assert orthanc["password"] not in text
    with sqlite3.connect(db) as c:
        rows = c.execute("select case_id, status, reviewer_label, predicted, probabilities, weights_id "
                         "from decision order by reviewed_at").fetchall()
        classes = json.loads(c.execute("select classes from session").fetchone()[0])
        assert not any(orthanc["password"] in " ".join(map(str, r)) for r in c.execute("select * from decision"))
    assert [r[1] for r in rows] == ["relabelled", "flagged", "relabelled", "relabelled", "relabelled"]
    assert all(r[3] is not None for r in rows), "every decision carries the model's class"
    by_sop = {r[0].rsplit("/", 1)[1]: r for r in rows}
    assert set(by_sop) == {f["sop_uid"] for f in images}

    sent = _run([fracview, "pacs", "send", orthanc["dicomweb"], "--db", str(db), "--reviewer", REVIEWER], env)
    assert sent.returncode == 0, sent.stderr
    assert "sent 5 cases" in sent.stdout, sent.stdout
    assert orthanc["password"] not in sent.stdout + sent.stderr

    folder = tmp_path / "sent"
    folder.mkdir()
    srs = [p for s in uids for p in _sent_objects(orthanc, s, "SR", folder)]
    prs = [p for s in uids for p in _sent_objects(orthanc, s, "PR", folder)]
    srs = [p for p in srs if pydicom.dcmread(p, stop_before_pixels=True).SeriesNumber == 9901]
    assert len(srs) == 5 and len(prs) == 5
    sources = {f["sop_uid"]: f for f in images}
    prs_by_source = {read_pr(p)["referenced"][0][2]: read_pr(p) for p in prs}
    for path in srs:
        sr = read_sr(path)
        study, series, sop, sop_class = sr["evidence"][0]
        source = sources[sop]
        assert (study, series) == (source["study_uid"], source["series_uid"])
        assert sr["highdicom_class"] == "Comprehensive3DSR" and sr["report_class"] == "MeasurementReport"
        assert sr["study_uid"] == source["study_uid"], "into the same study"
        _, status, label, predicted, probabilities, weights = by_sop[sop]
        probabilities = json.loads(probabilities)
        f = sr["finding"]
        assert f["class"][0] == classes[predicted] and f["class"][1] == "99FRACVIEW"
        assert abs(f["probability"] - round(probabilities[predicted], 4)) < 1e-9
        assert f["decision"] == status
        assert f.get("decided_class") == (classes[label] if label is not None else None)
        assert sr["verification"] == "VERIFIED" and sr["verifier"]["name"] == REVIEWER
        ce = sr["contributing_equipment"]
        assert ce["manufacturer"] == "fracview" and ce["purpose"] == ["Newcode1", "99IHE", "Processing Algorithm"]
        assert ce["software_versions"][1] == "weights " + weights
        # The model's box, against `fracview predict` on the same file.
        cached = os.path.join(env["FRACVIEW_PACS_CACHE"], sop + ".dcm")
        predicted_json = json.loads(_run([fracview, "predict", "--json", cached], env).stdout)
        x0, y0, x1, y1 = predicted_json["boxes"][0]["box"]
        assert len(sr["boxes"]) == 1
        points = sr["boxes"][0]["points"]
        assert sr["boxes"][0]["image"][1] == sop
        assert abs(points[0][0] - x0) < 0.01 and abs(points[0][1] - y0) < 0.01
        assert abs(points[2][0] - x1) < 0.01 and abs(points[2][1] - y1) < 0.01
        # The presentation state: same image, the box on the MODEL layer, the class and probability as text.
        pr = prs_by_source[sop]
        assert pr["study_uid"] == source["study_uid"] and pr["content_label"] == "FRACVIEW"
        assert "MODEL" in pr["layers"]
        model = pr["annotations"]["MODEL"]
        assert model["boxes"][0]["units"] == "PIXEL"
        assert abs(model["boxes"][0]["points"][0][0] - x0) < 0.01 and abs(model["boxes"][0]["points"][2][1] - y1) < 0.01
        assert any(classes[predicted] in t and f"{probabilities[predicted]:.2f}" in t for t in model["texts"]), model["texts"]
        if source["kind"] == "image12":
            assert pr["window"] == [2048.0, 4096.0], "the image's own window"

    # Sending the same decisions again stores nothing new.
    count = lambda: sum(len(json.loads(_rest(orthanc, "POST", "/tools/find",
                                             {"Level": "Instance", "Query": {"StudyInstanceUID": s}}))) for s in uids)
    before = count()
    again = _run([fracview, "pacs", "send", orthanc["dicomweb"], "--db", str(db), "--reviewer", REVIEWER], env)
    assert again.returncode == 0 and "5 unchanged" in again.stdout, again.stdout + again.stderr
    assert count() == before, "the same UIDs: the PACS holds one copy"

    # A changed decision supersedes: the reviewer reopens the studies (all reviewed: the screen opens at the first
    # case) and relabels that case as class 4; the new SR names the old one.
    _review(fracview, orthanc, uids, db, env, ["4"], 0)
    with sqlite3.connect(db) as c:
        changed_rows = c.execute("select case_id from decision where reviewer_label = 4").fetchall()
    assert len(changed_rows) == 1, changed_rows
    changed_sop = changed_rows[0][0].rsplit("/", 1)[1]
    old = next(read_sr(p) for p in srs if read_sr(p)["evidence"][0][2] == changed_sop)
    changed = _run([fracview, "pacs", "send", orthanc["dicomweb"], "--db", str(db), "--reviewer", REVIEWER], env)
    assert changed.returncode == 0 and "sent 1 case" in changed.stdout and "1 superseding" in changed.stdout, changed.stdout
    newer = [read_sr(p) for s in uids for p in _sent_objects(orthanc, s, "SR", folder)
             if pydicom.dcmread(p, stop_before_pixels=True).SeriesNumber == 9901]
    successor = [s for s in newer if s.get("predecessor", {}).get("instance") == old["instance_uid"]]
    assert len(successor) == 1
    assert successor[0]["finding"]["decided_class"] == classes[4]
    assert successor[0]["instance_uid"] != old["instance_uid"]


def test_a_reviewed_study_reopens_without_the_network(fracview, orthanc, studies, tmp_path):
    uids, images = _image_studies(studies)
    env = _env(tmp_path)
    db = tmp_path / "review.sqlite"
    _review(fracview, orthanc, uids[:1], db, env, [], 3)
    # Same cache, a server that is not there: the listing and the images come from the cache.
    offline = "http://127.0.0.1:9/dicom-web"
    argv = [fracview, "review", offline, "--study", uids[0], "--db", str(tmp_path / "offline.sqlite"),
            "--reviewer", REVIEWER, "--graphics", "blocks"]
    screen = Screen(argv, env)
    assert screen.wait_for("listed from the cache", 30), screen.text[-2000:]
    assert screen.wait_for("2026-12-01", 30)
    screen.read(5)
    assert "download failed" not in screen.text and "cannot reach" not in screen.text
    screen.quit()
    with sqlite3.connect(tmp_path / "offline.sqlite") as c:
        assert c.execute("select count(*) from prediction_cache").fetchone()[0] == 3, "every image decoded and classified"


def test_the_p_key_sends_the_case_on_screen_with_its_window(fracview, orthanc, studies, tmp_path):
    uids, images = _image_studies(studies)
    twelve = next(f for f in images if f["kind"] == "image12")
    env = _env(tmp_path)
    db = tmp_path / "review.sqlite"
    # Study B opens at its first image, the 12-bit one (window 2048/4096 in the file): narrow the window, relabel
    # as class 5, send.
    text = _review(fracview, orthanc, [twelve["study_uid"]], db, env, ["w", "w", "5", "P"], 2, extra=["--no-auto-advance"])
    deadline = time.time() + 30
    folder = tmp_path / "sent"
    folder.mkdir()
    prs = []
    while time.time() < deadline and not prs:
        prs = _sent_objects(orthanc, twelve["study_uid"], "PR", folder)
        time.sleep(0.5)
    assert len(prs) == 1, "one case sent: the one on screen"
    pr = read_pr(prs[0])
    assert pr["referenced"][0][2] == twelve["sop_uid"]
    center, width = pr["window"]
    assert width < 4096 and width > 0, "the narrowed window on screen, not the file's"
    srs = [p for p in _sent_objects(orthanc, twelve["study_uid"], "SR", folder)]
    sr = read_sr(srs[0])
    with sqlite3.connect(db) as c:
        classes = json.loads(c.execute("select classes from session").fetchone()[0])
    assert sr["finding"]["decided_class"] == classes[5] and sr["finding"]["decision"] == "relabelled"


def test_a_bearer_token_goes_in_the_header_and_nowhere_else(fracview, tmp_path):
    """Orthanc 1.10 has no bearer authentication without a plugin, so a tiny local HTTP server stands in for a
    token-protected DICOMweb service: it answers QIDO-RS only to `Authorization: Bearer <token>`."""
    import http.server
    import threading
    token = "tok-" + "9" * 24
    seen = []

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self):
            seen.append(self.headers.get("Authorization"))
            if self.headers.get("Authorization") != "Bearer " + token:
                self.send_response(401)
                self.send_header("WWW-Authenticate", 'Bearer realm="dicomweb"')
                self.send_header("Content-Length", "0")
                self.end_headers()
                return
            body = json.dumps([{"0020000D": {"vr": "UI", "Value": ["1.2.3"]},
                                "00080020": {"vr": "DA", "Value": ["20261203"]}}]).encode()
            self.send_response(200)
            self.send_header("Content-Type", "application/dicom+json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args):
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        url = f"http://127.0.0.1:{server.server_address[1]}/dicom-web"
        ok = _run([fracview, "pacs", "studies", url], _env(tmp_path, FRACVIEW_DICOMWEB_TOKEN=token))
        assert ok.returncode == 0 and "2026-12-03" in ok.stdout and "1.2.3" in ok.stdout, ok.stderr
        assert seen[-1] == "Bearer " + token
        refused = _run([fracview, "pacs", "studies", url], _env(tmp_path, FRACVIEW_DICOMWEB_TOKEN="wrong-token-abc"))
        assert refused.returncode == 1 and "401" in refused.stderr and "bearer token" in refused.stderr
        for out in (ok, refused):
            assert token not in out.stdout + out.stderr and "wrong-token-abc" not in out.stdout + out.stderr
    finally:
        server.shutdown()
