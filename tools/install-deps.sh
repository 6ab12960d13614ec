#!/bin/sh
# install-deps.sh: installs the Debian 12 packages fixit needs to build, test, fuzz and lint.
# `make deps` runs it; the Makefile runs it with --if-missing MODULE... before a first build,
# which installs only when the compiler, pkg-config or one of those pkg-config modules is absent.
set -eu

PACKAGES="build-essential pkg-config libyaml-dev libpcre2-dev libreadline-dev libcmocka-dev
valgrind clang libclang-rt-14-dev cppcheck clang-format libjansson-dev libvectorscan-dev"

if [ "${1:-}" = "--if-missing" ]; then
	shift
	pc=${PKG_CONFIG:-pkg-config}
	cc=${CC:-gcc}
	missing=""
	command -v "${cc%% *}" >/dev/null 2>&1 || missing="$missing ${cc%% *}"
	if command -v "$pc" >/dev/null 2>&1; then
		for m in "$@"; do
			"$pc" --exists "$m" || missing="$missing $m"
		done
	else
		missing="$missing $pc"
	fi
	[ -z "$missing" ] && exit 0
	echo "install-deps: missing:$missing; installing the build dependencies" >&2
fi

if ! command -v apt-get >/dev/null 2>&1; then
	echo "install-deps: no apt-get here; please install the equivalents of:" >&2
	echo "  $PACKAGES" >&2
	exit 1
fi

# Root runs apt-get directly; anyone else goes through sudo, which must not wait for a
# password when there is no terminal to type it on (CI).
if [ "$(id -u)" -eq 0 ]; then
	as_root=""
elif command -v sudo >/dev/null 2>&1; then
	if [ -t 0 ]; then as_root="sudo"; else as_root="sudo -n"; fi
else
	echo "install-deps: not root and no sudo; run as root: apt-get install $PACKAGES" >&2
	exit 1
fi

# env carries DEBIAN_FRONTEND through sudo, which would otherwise reset the environment.
# shellcheck disable=SC2086 # word splitting of $as_root and $PACKAGES is wanted
$as_root env DEBIAN_FRONTEND=noninteractive apt-get update </dev/null
# shellcheck disable=SC2086
$as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y \
	$PACKAGES </dev/null
