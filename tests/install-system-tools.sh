#!/bin/sh
# The system programs the test suite runs for real, installed when missing: Chromium (the
# report opened in a browser), strace and a C compiler (the durability and fault tests trace
# real system calls and inject faults through a shim they compile). Uses apt-get (Debian,
# Ubuntu); when it cannot install them it fails, naming them, so no test is skipped silently.
set -eu
missing=""
[ -x /usr/bin/chromium ] || missing="$missing chromium"
command -v strace >/dev/null 2>&1 || missing="$missing strace"
command -v cc >/dev/null 2>&1 || command -v gcc >/dev/null 2>&1 || missing="$missing gcc libc6-dev"
[ -z "$missing" ] && exit 0
as_root=""
[ "$(id -u)" -eq 0 ] || as_root="sudo"
echo "installing the test suite's system programs:$missing" >&2
if ! { $as_root apt-get update -qq \
       && $as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $missing >/dev/null; }
then
    echo "error: could not install$missing with apt-get; install them, then run the tests again" >&2
    exit 1
fi
