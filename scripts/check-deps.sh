#!/bin/sh
# Checks for what the build and the tests need; with --install, installs the
# missing Debian packages (needs root or sudo). The library needs only libc and
# pthreads; the sanitizer runs need gcc's libasan and libubsan, which Debian's gcc
# already depends on.
set -eu
missing=""
command -v cc    >/dev/null 2>&1 || missing="$missing gcc"
command -v make  >/dev/null 2>&1 || missing="$missing make"
command -v cmake >/dev/null 2>&1 || missing="$missing cmake"
# test_abi compares vsva's uapi headers with the system's linux/iommu.h and vfio.h.
[ -f /usr/include/linux/vfio.h ] || missing="$missing linux-libc-dev"
[ -z "$missing" ] && exit 0
if [ "${1:-}" = "--install" ]; then
    sudo=""
    [ "$(id -u)" = 0 ] || sudo="sudo"
    $sudo apt-get update -q
    # shellcheck disable=SC2086
    $sudo apt-get install -y -q $missing
    exit 0
fi
echo "vsva needs:$missing (Debian: apt-get install$missing, or 'make deps')" >&2
exit 1
