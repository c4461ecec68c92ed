#!/usr/bin/env bash
# Prints the path of Google's Firestore emulator launcher (cloud_firestore_emulator, Java 17),
# which the Firestore state store tests run against; they read it from
# BLUEPRINT_FIRESTORE_EMULATOR.
#
# It comes with the Google Cloud SDK, not through the Go module proxy: the launcher found on
# PATH, in $CLOUDSDK_ROOT_DIR, or where the Debian package puts it is used; otherwise this
# says what to install and fails.
set -euo pipefail

for candidate in \
  "$(command -v cloud_firestore_emulator 2>/dev/null || true)" \
  "${CLOUDSDK_ROOT_DIR:-/nonexistent}/platform/cloud-firestore-emulator/cloud_firestore_emulator" \
  /usr/lib/google-cloud-sdk/platform/cloud-firestore-emulator/cloud_firestore_emulator \
  /usr/share/google-cloud-sdk/platform/cloud-firestore-emulator/cloud_firestore_emulator; do
  if [ -n "$candidate" ] && [ -x "$candidate" ]; then
    if ! command -v java >/dev/null 2>&1; then
      echo "tools: the Firestore emulator needs Java 17 or later: apt-get install openjdk-17-jre-headless" >&2
      exit 1
    fi
    echo "$candidate"
    exit 0
  fi
done
echo "tools: Google's Firestore emulator is not installed: apt-get install google-cloud-cli-firestore-emulator (from Google's Cloud SDK apt repository), or gcloud components install cloud-firestore-emulator" >&2
exit 1
