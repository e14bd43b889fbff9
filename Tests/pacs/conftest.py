"""The PACS tests run against a real Orthanc with its DICOMweb plugin (scripts/orthanc.sh, started by
scripts/test.sh) and the real fracview binary ($FRACVIEW_BIN). Without a server they skip, and fail under CI."""
import json
import os
import subprocess
import sys

import pytest

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))


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
