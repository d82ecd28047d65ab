#!/bin/sh
# Installs the Debian packages that dembench needs to build, test and
# build its data, or the packages named as arguments (make fuzz adds
# clang).  As root it runs apt-get (after "apt-get update" when a
# package is unknown to apt); otherwise it prints the command to run.
set -u
packages="build-essential pkg-config libhdf5-dev hdf5-tools libopenblas-dev
libcsv-dev libinih-dev libcmocka-dev libjpeg-dev zlib1g-dev gnuplot-nox
dataset-fashion-mnist perl parallel python3-h5py python3-numpy"
[ $# -gt 0 ] && packages="$*"

missing=
for p in $packages; do
	status=$(dpkg-query -W -f='${Status}' "$p" 2>/dev/null)
	case "$status" in
	*" installed") ;;
	*) missing="$missing $p" ;;
	esac
done
[ -z "$missing" ] && exit 0

if [ "$(id -u)" -ne 0 ]; then
	echo "dembench: missing Debian packages:$missing" >&2
	echo "Install them with:" >&2
	echo "  sudo apt-get install -y$missing" >&2
	exit 1
fi

echo "dembench: installing$missing" >&2
export DEBIAN_FRONTEND=noninteractive
if ! apt-get install -y -q $missing; then
	echo "dembench: retrying after apt-get update" >&2
	apt-get update -q && apt-get install -y -q $missing || {
		echo "dembench: apt-get failed for:$missing" >&2
		exit 1
	}
fi
