#!/bin/sh
# Downloads the actions runner and tini for the image's architecture, refuses either unless its
# sha256 matches the pinned value, and installs them (run as root during `docker build`).
#
# Inputs (the Dockerfile's ARGs): RUNNER_VERSION, RUNNER_SHA256_X64, RUNNER_SHA256_ARM64,
# TINI_VERSION, TINI_SHA256_AMD64, TINI_SHA256_ARM64, RUNNER_HOME, and TARGETARCH (amd64/arm64,
# set by BuildKit; `uname -m` when empty). RUNNER_DOWNLOAD_BASE and TINI_DOWNLOAD_BASE point at a
# mirror if needed: the pinned checksums decide either way.
set -eu

: "${RUNNER_VERSION:?install-runner.sh: RUNNER_VERSION is not set}"
: "${RUNNER_HOME:?install-runner.sh: RUNNER_HOME is not set}"
: "${TINI_VERSION:?install-runner.sh: TINI_VERSION is not set}"
RUNNER_DOWNLOAD_BASE="${RUNNER_DOWNLOAD_BASE:-https://github.com/actions/runner/releases/download}"
TINI_DOWNLOAD_BASE="${TINI_DOWNLOAD_BASE:-https://github.com/krallin/tini/releases/download}"
TINI_PATH="${TINI_PATH:-/usr/local/bin/tini}"
RUNNER_USER="${RUNNER_USER:-runner}"

fail() {
  echo "install-runner.sh: $1" >&2
  exit 1
}

runner_arch() {
  case "${TARGETARCH:-}" in
    amd64) echo x64 ;;
    arm64) echo arm64 ;;
    "")
      case "$(uname -m)" in
        x86_64) echo x64 ;;
        aarch64 | arm64) echo arm64 ;;
        *) fail "unsupported machine $(uname -m): the runner image supports x86_64 and aarch64" ;;
      esac
      ;;
    *) fail "unsupported TARGETARCH=$TARGETARCH: the runner image supports amd64 and arm64" ;;
  esac
}

download_verified() {
  url="$1"
  expected_sha256="$2"
  destination="$3"
  [ -n "$expected_sha256" ] || fail "no pinned sha256 for $url"
  curl --fail --silent --show-error --location --retry 5 --output "$destination" "$url"
  actual_sha256="$(sha256sum "$destination" | cut -d ' ' -f 1)"
  if [ "$actual_sha256" != "$expected_sha256" ]; then
    rm -f "$destination"
    fail "checksum mismatch for $url: expected $expected_sha256, got $actual_sha256"
  fi
}

main() {
  arch="$(runner_arch)"
  if [ "$arch" = x64 ]; then
    runner_sha256="${RUNNER_SHA256_X64:-}"
    tini_asset=tini-static-amd64
    tini_sha256="${TINI_SHA256_AMD64:-}"
  else
    runner_sha256="${RUNNER_SHA256_ARM64:-}"
    tini_asset=tini-static-arm64
    tini_sha256="${TINI_SHA256_ARM64:-}"
  fi
  runner_asset="actions-runner-linux-$arch-$RUNNER_VERSION.tar.gz"

  work_dir="$(mktemp -d)"
  trap 'rm -rf "$work_dir"' EXIT
  download_verified "$TINI_DOWNLOAD_BASE/$TINI_VERSION/$tini_asset" "$tini_sha256" "$work_dir/tini"
  download_verified "$RUNNER_DOWNLOAD_BASE/v$RUNNER_VERSION/$runner_asset" "$runner_sha256" \
    "$work_dir/runner.tar.gz"

  install -m 0755 "$work_dir/tini" "$TINI_PATH"
  mkdir -p "$RUNNER_HOME"
  tar -xzf "$work_dir/runner.tar.gz" -C "$RUNNER_HOME" --no-same-owner
  # The runner writes its JIT credentials, _diag logs and _work into its own directory.
  chown -R "$RUNNER_USER:" "$RUNNER_HOME"
  echo "install-runner.sh: actions runner $RUNNER_VERSION ($arch) in $RUNNER_HOME, tini $TINI_VERSION at $TINI_PATH"
}

main "$@"
