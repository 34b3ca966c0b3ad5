#!/bin/sh
# A small `lsb_release` for bases that package none (Amazon Linux 2023, RHEL/UBI 9 and others of the
# RHEL family dropped redhat-lsb-core): image-conventions.sh installs it as /usr/local/bin/lsb_release
# when the base has no lsb_release. Actions such as actions/setup-python run `lsb_release -i -r -s`
# to find the distribution. Reads /etc/os-release (never sources it) and answers like Debian's
# lsb_release: the distributor ID is ID with a capital initial (NAME if it differs from ID only in
# case), the description PRETTY_NAME, the release VERSION_ID, the codename VERSION_CODENAME.
set -eu

OS_RELEASE_FILE="${OS_RELEASE_FILE:-/etc/os-release}"
[ -r "$OS_RELEASE_FILE" ] || OS_RELEASE_FILE=/usr/lib/os-release

usage() {
  cat <<'EOF'
Usage: lsb_release [options]
  -v, --version      LSB modules (none)
  -i, --id           distributor ID
  -d, --description  description of the distribution
  -r, --release      release number
  -c, --codename     code name
  -a, --all          all of the above
  -s, --short        values only, one per line
  -h, --help         this help
EOF
}

value() {
  [ -r "$OS_RELEASE_FILE" ] || return 0
  sed -n "s/^$1=//p" "$OS_RELEASE_FILE" | head -n 1 | sed -e 's/^"\(.*\)"$/\1/' -e "s/^'\(.*\)'\$/\1/"
}

distributor_id() {
  id="$(value ID)"
  name="$(value NAME)"
  lower() { echo "$1" | tr '[:upper:]' '[:lower:]'; }
  if [ -n "$name" ] && [ "$(lower "$name")" = "$(lower "$id")" ]; then
    echo "$name"
  else
    first="$(echo "$id" | cut -c 1 | tr '[:lower:]' '[:upper:]')"
    echo "$first$(echo "$id" | cut -c 2-)"
  fi
}

show_version=false show_id=false show_description=false show_release=false show_codename=false short=false

select_option() {
  case "$1" in
    v | version) show_version=true ;;
    i | id) show_id=true ;;
    d | description) show_description=true ;;
    r | release) show_release=true ;;
    c | codename) show_codename=true ;;
    a | all) show_version=true show_id=true show_description=true show_release=true show_codename=true ;;
    s | short) short=true ;;
    h | help) usage; exit 0 ;;
    *) echo "lsb_release: unknown option: $argument" >&2; usage >&2; exit 2 ;;
  esac
}

[ $# -gt 0 ] || show_version=true
for argument in "$@"; do
  case "$argument" in
    --?*) select_option "${argument#--}" ;;
    -?*)
      letters="${argument#-}"
      while [ -n "$letters" ]; do
        rest="${letters#?}"
        select_option "${letters%"$rest"}"
        letters="$rest"
      done
      ;;
    *) echo "lsb_release: unexpected argument: $argument" >&2; usage >&2; exit 2 ;;
  esac
done

show() {
  if "$short"; then
    printf '%s\n' "${2:-n/a}"
  else
    printf '%s:\t%s\n' "$1" "${2:-n/a}"
  fi
}

if "$show_version"; then show "LSB Version" ""; fi
if "$show_id"; then show "Distributor ID" "$(distributor_id)"; fi
if "$show_description"; then show "Description" "$(value PRETTY_NAME)"; fi
if "$show_release"; then show "Release" "$(value VERSION_ID)"; fi
if "$show_codename"; then show "Codename" "$(value VERSION_CODENAME)"; fi
