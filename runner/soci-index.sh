#!/usr/bin/env bash
# Optional (ENABLE_SOCI=true): turns the pushed image into a SOCI-enabled image (SOCI index
# manifest v2) so that Fargate can lazy-load it and start large images faster.
#
# Tools: the `soci` CLI of awslabs/soci-snapshotter and `nerdctl`, both packaged by Amazon Linux 2023
# (installed here with dnf when missing, as on the CodeBuild Amazon Linux images), talking to the
# containerd that CodeBuild's dockerd runs. Registry credentials come from the Docker config written
# by `docker login`, never from arguments. The image tag is pushed a second time, now pointing at
# the SOCI-enabled index, so the repository's tags must be mutable.
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

nerdctl pull --quiet "$image"
soci --content-store containerd convert "$image" "$image"
nerdctl push "$image"
echo "soci-index.sh: pushed SOCI-enabled $image"
