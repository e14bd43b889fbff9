#!/usr/bin/env bash
# Installs the system libraries fracview links against (and, with --test, what the test suite needs).
# Idempotent: it only calls apt-get/pip when something is missing. Runs as root (or with sudo available).
set -euo pipefail
want_tests=0
[ "${1:-}" = "--test" ] && want_tests=1

sudo_cmd=""
[ "$(id -u)" -ne 0 ] && command -v sudo >/dev/null && sudo_cmd="sudo"

# libdcmtk-dev: DICOM (the CDicom shim links DCMTK).
pkgs=(pkg-config libopenblas-dev libjpeg-dev libpng-dev libncurses-dev libsixel-dev libsqlite3-dev libdcmtk-dev libpq-dev)
# postgresql: the server the shared-store tests run against (scripts/postgres.sh starts a private one on loopback);
# orthanc and orthanc-dicomweb: the PACS the DICOMweb tests run against (scripts/orthanc.sh, likewise).
[ $want_tests -eq 1 ] && pkgs+=(python3 python3-pip postgresql orthanc orthanc-dicomweb)
missing=()
for p in "${pkgs[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  echo "installing: ${missing[*]}" >&2
  $sudo_cmd apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo_cmd apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

if [ $want_tests -eq 1 ]; then
  # The training smoke test needs PyTorch. Only the CPU build is acceptable (the default PyPI wheel is
  # the 3 GB CUDA one), so install it only where a CPU wheel is reachable; otherwise those tests skip.
  if ! python3 -c "import training.tv, PIL, yaml, pytest, safetensors" 2>/dev/null; then
    if ! python3 -m pip install -q --disable-pip-version-check --root-user-action=ignore -r training/requirements.txt; then
      echo "warning: could not install training/requirements.txt; the training tests will be skipped" >&2
    fi
  fi
  if ! python3 -c "import cleanlab, sklearn, statsmodels, pydicom, highdicom" 2>/dev/null; then
    python3 -m pip install -q --disable-pip-version-check --root-user-action=ignore -r training/requirements-test.txt \
      || echo "warning: could not install training/requirements-test.txt; the cleanlab comparison will be skipped" >&2
  fi
fi

