#!/usr/bin/env bash
# Installs what lstv-node needs on Debian 12 when it is missing (idempotent, quiet when done).
#   scripts/bootstrap.sh          system packages for building and running the node
#   scripts/bootstrap.sh --test   also the test peers and the Python test environment (.venv)
set -euo pipefail
cd "$(dirname "$0")/.."

# libdcmtk-dev holds dcmtls (DICOM TLS); libssl-dev the OpenSSL it links (the node links it too);
# libopenjp2-7-dev OpenJPEG, which decodes JPEG 2000 and HTJ2K (DCMTK 3.6.7 cannot).
packages=(libdcmtk-dev libssl-dev dcmtk libopenblas-dev libpq-dev postgresql libopenjp2-7-dev)
if [[ ${1:-} == --test ]]; then
  packages+=(orthanc dicom3tools python3-venv chromium chromium-driver openssl)  # openssl: the TLS tests' certificates
  packages+=(libopenjp2-tools openjph-tools)  # JPEG 2000 / HTJ2K encoders for the tests' compressed copies
  packages+=(libgdcm-tools)  # gdcmconv: whole DICOM files compressed to JPEG 2000 by an independent toolkit
fi

missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if ((${#missing[@]})); then
  echo "bootstrap: installing ${missing[*]}"
  sudo_cmd=(); [[ $(id -u) -eq 0 ]] || sudo_cmd=(sudo)
  export DEBIAN_FRONTEND=noninteractive
  "${sudo_cmd[@]}" apt-get update -q >/dev/null
  # Orthanc's package starts a service; on machines without systemd that fails harmlessly.
  "${sudo_cmd[@]}" apt-get install -y -q --no-install-recommends "${missing[@]}" >/dev/null
fi
if ! command -v swift >/dev/null; then
  [[ -x /opt/swift/usr/bin/swift ]] && export PATH=/opt/swift/usr/bin:$PATH
  command -v swift >/dev/null || { echo "bootstrap: Swift 6 toolchain not found (expected on PATH or in /opt/swift)" >&2; exit 1; }
fi

if [[ ${1:-} == --test ]]; then
  if [[ ! -x .venv/bin/python ]] || ! .venv/bin/python -c "import pynetdicom, pydicom, highdicom, pytest, cv2, nibabel, sklearn, prometheus_client, requests, selenium, dicomweb_client, schemathesis, fhir.resources.R4B, openapi_spec_validator, yaml" 2>/dev/null; then
    echo "bootstrap: installing the Python test environment (.venv)"
    # An existing environment is completed, not recreated (it may be shared with another checkout).
    [[ -x .venv/bin/python ]] || python3 -m venv .venv
    .venv/bin/pip install -q --disable-pip-version-check -r tests/requirements.txt
  fi
fi
