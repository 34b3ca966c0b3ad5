#!/usr/bin/env bash
# Validates the image build's environment before buildspec.yml uses any of it. The control plane
# validates BASE_IMAGE and IMAGE_TAG too; this second check keeps a bad StartBuild override (or a
# bug upstream) from ever reaching a shell command line.
#
#   BASE_IMAGE      OCI reference: [host[:port]/]path[:tag][@sha256:<64 hex>], at most 255 characters
#   IMAGE_TAG       [A-Za-z0-9_][A-Za-z0-9_.-]{0,127}
#   REPOSITORY_URI  host[:port]/path (the ECR repository URL, no tag or digest)
#   ENABLE_SOCI     true or false
set -euo pipefail
export LC_ALL=C

readonly MAX_REFERENCE_LENGTH=255
readonly DOMAIN_COMPONENT='([a-zA-Z0-9]|[a-zA-Z0-9][a-zA-Z0-9-]*[a-zA-Z0-9])'
readonly DOMAIN="^${DOMAIN_COMPONENT}(\.${DOMAIN_COMPONENT})*(:[0-9]+)?\$"
readonly PATH_COMPONENT='[a-z0-9]+(([._]|__|[-]+)[a-z0-9]+)*'
readonly REPOSITORY_PATH="^${PATH_COMPONENT}(/${PATH_COMPONENT})*\$"
readonly TAG='^[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}$'
readonly DIGEST='^sha256:[a-f0-9]{64}$'

errors=0

refuse() {
  printf 'validate-build-env.sh: %s=%q refused: %s\n' "$1" "$2" "$3" >&2
  errors=$((errors + 1))
}

looks_like_registry() {
  [[ "$1" == *.* || "$1" == *:* || "$1" == localhost ]]
}

# Prints why $1 is not a valid image reference, or nothing when it is (the rules of
# lambda/ecsrunner_core/domain/image_ref.py: a registry host only when the first of several
# components contains "." or ":" or is "localhost").
reference_problem() {
  local reference="$1" remainder digest first last tag
  if [[ -z "$reference" ]]; then
    echo "empty"
    return
  fi
  if ((${#reference} > MAX_REFERENCE_LENGTH)); then
    echo "longer than $MAX_REFERENCE_LENGTH characters"
    return
  fi
  remainder="$reference"
  if [[ "$remainder" == *@* ]]; then
    digest="${remainder#*@}"
    remainder="${remainder%%@*}"
    if [[ ! "$digest" =~ $DIGEST ]]; then
      echo "digest must be sha256: followed by 64 lowercase hex digits"
      return
    fi
  fi
  if [[ "$remainder" == */* ]]; then
    first="${remainder%%/*}"
    if looks_like_registry "$first"; then
      if [[ ! "$first" =~ $DOMAIN ]]; then
        echo "registry must be host[:port]"
        return
      fi
      remainder="${remainder#*/}"
    fi
  fi
  last="${remainder##*/}"
  if [[ "$last" == *:* ]]; then
    tag="${last#*:}"
    remainder="${remainder%"$last"}${last%%:*}"
    if [[ ! "$tag" =~ $TAG ]]; then
      echo "tag must match [A-Za-z0-9_][A-Za-z0-9_.-]{0,127}"
      return
    fi
  fi
  if [[ ! "$remainder" =~ $REPOSITORY_PATH ]]; then
    echo "path components must be lowercase letters and digits joined by '.', '_', '__' or dashes"
  fi
}

check_set() {
  if [[ -z "${!1-}" ]]; then
    refuse "$1" "" "not set"
    return 1
  fi
}

check_base_image() {
  local problem
  check_set BASE_IMAGE || return 0
  problem="$(reference_problem "$BASE_IMAGE")"
  if [[ -n "$problem" ]]; then
    refuse BASE_IMAGE "$BASE_IMAGE" "$problem"
  fi
}

check_image_tag() {
  check_set IMAGE_TAG || return 0
  if [[ ! "$IMAGE_TAG" =~ $TAG ]]; then
    refuse IMAGE_TAG "$IMAGE_TAG" "must match [A-Za-z0-9_][A-Za-z0-9_.-]{0,127}"
  fi
}

check_repository_uri() {
  local host path
  check_set REPOSITORY_URI || return 0
  host="${REPOSITORY_URI%%/*}"
  path="${REPOSITORY_URI#*/}"
  if [[ "$REPOSITORY_URI" != */* || ! "$host" =~ $DOMAIN || ! "$path" =~ $REPOSITORY_PATH ]]; then
    refuse REPOSITORY_URI "$REPOSITORY_URI" "must be host[:port]/path without tag or digest"
  fi
}

check_enable_soci() {
  check_set ENABLE_SOCI || return 0
  if [[ "$ENABLE_SOCI" != true && "$ENABLE_SOCI" != false ]]; then
    refuse ENABLE_SOCI "$ENABLE_SOCI" "must be true or false"
  fi
}

check_base_image
check_image_tag
check_repository_uri
check_enable_soci
if ((errors > 0)); then
  exit 1
fi
echo "validate-build-env.sh: building $REPOSITORY_URI:$IMAGE_TAG from $BASE_IMAGE (SOCI index: $ENABLE_SOCI)"
