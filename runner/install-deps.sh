#!/bin/sh
# Prepares the base image for the actions runner (run as root during `docker build`):
#   - installs the runner's .NET dependencies (ICU, OpenSSL, Kerberos, zlib, LTTng when packaged)
#     and the tools jobs written for GitHub-hosted runners expect (git, curl, jq, unzip, sudo, ...;
#     lsb_release: the lsb-release package on Debian/Ubuntu; RHEL-family bases get a shim from
#     image-conventions.sh, as Amazon Linux 2023 and RHEL 9 package none),
#   - creates the non-root `runner` user (uid 1001 when free) with passwordless sudo.
# Supported bases: Debian/Ubuntu (apt) and RHEL-family/Fedora/Amazon Linux (dnf, yum or microdnf),
# detected from ID and ID_LIKE in /etc/os-release. POSIX sh, so that any other base (Alpine, ...)
# still gets a clear message instead of "bash: not found".
#
# Usage: install-deps.sh                  install everything (needs root)
#        install-deps.sh --print-family   print "debian" or "rpm" and exit
#        install-deps.sh --print-packages print the packages that would be installed and exit
set -eu

OS_RELEASE_FILE="${OS_RELEASE_FILE:-/etc/os-release}"
RUNNER_USER=runner
RUNNER_UID=1001

fail() {
  echo "install-deps.sh: $1" >&2
  exit 1
}

os_release_value() {
  sed -n "s/^$1=//p" "$OS_RELEASE_FILE" | head -n 1 | tr -d "\"'" | tr '[:upper:]' '[:lower:]'
}

detect_family() {
  [ -r "$OS_RELEASE_FILE" ] || fail "cannot read $OS_RELEASE_FILE: unsupported base image"
  os_id="$(os_release_value ID)"
  os_id_like="$(os_release_value ID_LIKE)"
  for word in $os_id $os_id_like; do
    case "$word" in
      debian | ubuntu) echo debian; return 0 ;;
      rhel | fedora | centos | amzn) echo rpm; return 0 ;;
    esac
  done
  fail "unsupported base image (ID=${os_id:-?} ID_LIKE=${os_id_like:-none}): supported are \
Debian/Ubuntu (apt) and RHEL-family/Fedora/Amazon Linux (dnf, yum or microdnf)"
}

apt_has_candidate() {
  candidate="$(apt-cache policy "$1" 2>/dev/null | sed -n 's/^ *Candidate: *//p')"
  [ -n "$candidate" ] && [ "$candidate" != "(none)" ]
}

apt_first_available() {
  for package in "$@"; do
    if apt_has_candidate "$package"; then
      echo "$package"
      return 0
    fi
  done
  return 1
}

apt_newest_icu() {
  versions="$(apt-cache pkgnames libicu | sed -n 's/^libicu\([0-9][0-9]*\)$/\1/p' | sort -rn)"
  for version in $versions; do
    if apt_has_candidate "libicu$version"; then
      echo "libicu$version"
      return 0
    fi
  done
  return 1
}

debian_packages() {
  icu="$(apt_newest_icu)" || fail "no libicuNN package available from the apt sources"
  ssl="$(apt_first_available libssl3t64 libssl3 libssl1.1)" || fail "no libssl3/libssl1.1 package available"
  echo ca-certificates curl git jq unzip sudo tar gzip xz-utils lsb-release \
    libkrb5-3 libgssapi-krb5-2 zlib1g "$icu" "$ssl"
  # LTTng only feeds .NET tracing: installed where the distribution still packages it.
  apt_first_available liblttng-ust1t64 liblttng-ust1 liblttng-ust0 || true
}

rpm_packages() {
  echo ca-certificates git jq unzip sudo tar gzip xz shadow-utils findutils \
    libicu krb5-libs zlib openssl-libs
  # Amazon Linux 2023 and UBI ship curl-minimal, which conflicts with the full curl package.
  command -v curl >/dev/null 2>&1 || echo curl
}

install_debian() {
  export DEBIAN_FRONTEND=noninteractive
  apt-get update
  packages="$(debian_packages)"
  # shellcheck disable=SC2086 # one package name per word
  apt-get install -y --no-install-recommends $packages
  apt-get clean
  rm -rf /var/lib/apt/lists/*
}

install_rpm() {
  packages="$(rpm_packages)"
  # shellcheck disable=SC2086 # one package name per word
  if command -v dnf >/dev/null 2>&1; then
    dnf install -y --setopt=install_weak_deps=False --setopt=tsflags=nodocs $packages
    dnf clean all
  elif command -v yum >/dev/null 2>&1; then
    yum install -y $packages
    yum clean all
  elif command -v microdnf >/dev/null 2>&1; then
    microdnf install -y --nodocs $packages
    microdnf clean all
  else
    fail "RHEL-family base image without dnf, yum or microdnf"
  fi
  rm -rf /var/cache/dnf /var/cache/yum
}

create_runner_user() {
  if ! id "$RUNNER_USER" >/dev/null 2>&1; then
    if getent passwd "$RUNNER_UID" >/dev/null 2>&1; then
      useradd --create-home --shell /bin/bash --user-group "$RUNNER_USER"
    else
      useradd --create-home --shell /bin/bash --user-group --uid "$RUNNER_UID" "$RUNNER_USER"
    fi
  fi
  # Jobs written for GitHub-hosted runners call sudo (apt-get install, ...): see runner/README.md.
  sudoers="/etc/sudoers.d/$RUNNER_USER"
  printf '%s\n' "Defaults:$RUNNER_USER !requiretty" "$RUNNER_USER ALL=(ALL) NOPASSWD:ALL" >"$sudoers"
  chmod 0440 "$sudoers"
  visudo -cf "$sudoers" >/dev/null
}

main() {
  family="$(detect_family)"
  case "${1:-}" in
    --print-family) echo "$family"; return 0 ;;
    --print-packages) "${family}_packages"; return 0 ;;
    "") ;;
    *) fail "unknown argument: $1" ;;
  esac
  [ "$(id -u)" -eq 0 ] || fail "must run as root (it installs packages and creates users)"
  "install_$family"
  create_runner_user
}

main "$@"
