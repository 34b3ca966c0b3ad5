#!/bin/sh
# The conventions of GitHub's own runner images that actions rely on (run as root during `docker
# build`, after install-deps.sh and install-runner.sh):
#   - `lsb_release`: the base's own (Debian/Ubuntu get the lsb-release package), else
#     lsb-release-shim.sh, which reads /etc/os-release;
#   - the tool cache AGENT_TOOLSDIRECTORY (= RUNNER_TOOL_CACHE, the Dockerfile sets both), owned by
#     the runner user, where actions/setup-* install toolchains;
#   - ImageOS (e.g. ubuntu22): derived here from ID and VERSION_ID in /etc/os-release, because the
#     base is only known at build time, and written to RUNNER_HOME/.env, the file the runner loads
#     into its environment at start, so that every job step sees it.
#
# Inputs: RUNNER_HOME, AGENT_TOOLSDIRECTORY (Dockerfile ENV); OS_RELEASE_FILE, RUNNER_USER,
# LSB_RELEASE_PATH and the shim's location default to the image's paths (tests override them).
set -eu

: "${RUNNER_HOME:?image-conventions.sh: RUNNER_HOME is not set}"
: "${AGENT_TOOLSDIRECTORY:?image-conventions.sh: AGENT_TOOLSDIRECTORY is not set}"
OS_RELEASE_FILE="${OS_RELEASE_FILE:-/etc/os-release}"
RUNNER_USER="${RUNNER_USER:-runner}"
LSB_RELEASE_PATH="${LSB_RELEASE_PATH:-/usr/local/bin/lsb_release}"
LSB_RELEASE_SHIM="${LSB_RELEASE_SHIM:-$(dirname "$0")/lsb-release-shim.sh}"

fail() {
  echo "image-conventions.sh: $1" >&2
  exit 1
}

os_release_value() {
  sed -n "s/^$1=//p" "$OS_RELEASE_FILE" | head -n 1 | tr -d "\"'" | tr '[:upper:]' '[:lower:]'
}

# ID plus the major version: ubuntu22 (as on GitHub's ubuntu-22.04 images), debian12, amzn2023, rhel9.
image_os() {
  [ -r "$OS_RELEASE_FILE" ] || fail "cannot read $OS_RELEASE_FILE"
  os_id="$(os_release_value ID)"
  [ -n "$os_id" ] || fail "$OS_RELEASE_FILE has no ID"
  version="$(os_release_value VERSION_ID)"
  echo "$os_id${version%%.*}"
}

ensure_lsb_release() {
  if command -v lsb_release >/dev/null 2>&1; then
    return 0
  fi
  install -m 0755 "$LSB_RELEASE_SHIM" "$LSB_RELEASE_PATH"
  echo "image-conventions.sh: no lsb_release in the base: installed the os-release shim as $LSB_RELEASE_PATH"
}

write_runner_env() {
  env_file="$RUNNER_HOME/.env"
  value="$(image_os)"
  if [ -f "$env_file" ]; then
    grep -v '^ImageOS=' "$env_file" >"$env_file.new" || true
    mv "$env_file.new" "$env_file"
  fi
  printf 'ImageOS=%s\n' "$value" >>"$env_file"
  chown "$RUNNER_USER:" "$env_file"
  echo "image-conventions.sh: ImageOS=$value in $env_file"
}

main() {
  ensure_lsb_release
  mkdir -p "$AGENT_TOOLSDIRECTORY"
  chown "$RUNNER_USER:" "$AGENT_TOOLSDIRECTORY"
  write_runner_env
}

main "$@"
