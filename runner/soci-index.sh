#!/usr/bin/env bash
# ENABLE_SOCI=true: pushes the image just built as a SOCI-enabled image (SOCI index manifest v2), so
# that Fargate lazy-loads it and starts large images faster. Run instead of `docker push`.
#
# The repository's tags are immutable (a derived tag names its content), so the tag is pushed
# exactly once, and never before the conversion succeeded: a failed conversion leaves the tag free
# for the next build. The image goes from Docker's image store into containerd (docker save |
# nerdctl load), `soci convert` wraps it and its new SOCI index into one OCI image index, and
# `nerdctl push` pushes that index under the tag; the image manifest, its layers and the SOCI index
# are pushed by digest as the index's children (ECR keeps children of a tagged index).
#
# Tools: the `soci` CLI of awslabs/soci-snapshotter and `nerdctl`, both packaged by Amazon Linux 2023
# (installed here with dnf when missing, as on the CodeBuild Amazon Linux images), talking to the
# containerd that CodeBuild's dockerd runs. Registry credentials come from the Docker config written
# by `docker login`, never from arguments.
set -euo pipefail

: "${REPOSITORY_URI:?soci-index.sh: REPOSITORY_URI is not set}"
: "${IMAGE_TAG:?soci-index.sh: IMAGE_TAG is not set}"
image="$REPOSITORY_URI:$IMAGE_TAG"
export CONTAINERD_ADDRESS="${CONTAINERD_ADDRESS:-/var/run/docker/containerd/containerd.sock}"
export CONTAINERD_NAMESPACE=ecsrunner-soci

fail() {
  echo "soci-index.sh: $1" >&2
  exit 1
}

if ! command -v soci >/dev/null || ! command -v nerdctl >/dev/null; then
  command -v dnf >/dev/null || fail "ENABLE_SOCI=true needs the soci and nerdctl CLIs \
(Amazon Linux 2023 packages soci-snapshotter and nerdctl): use a CodeBuild Amazon Linux image"
  dnf install -y --setopt=install_weak_deps=False soci-snapshotter nerdctl
fi
[[ -S "$CONTAINERD_ADDRESS" ]] || fail "no containerd socket at $CONTAINERD_ADDRESS (set CONTAINERD_ADDRESS)"

docker save "$image" | nerdctl load
soci --content-store containerd convert "$image" "$image"
nerdctl push "$image"
echo "soci-index.sh: pushed SOCI-enabled $image"
