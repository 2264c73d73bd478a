#!/usr/bin/env bash
# Usage: install-debian-packages.sh "WHAT FOR" PACKAGE...
# Installs the Debian packages that are missing (through sudo when not root) and does nothing
# when all are there. Exits 1, naming the packages WHAT FOR needs, when it cannot install them.
set -euo pipefail
purpose=$1; shift
missing=()
for p in "$@"; do dpkg -s "$p" >/dev/null 2>&1 || missing+=("$p"); done
[ ${#missing[@]} -eq 0 ] && exit 0
sudo=""
if [ "$(id -u)" -ne 0 ]; then
	if command -v sudo >/dev/null; then sudo="sudo"; else
		echo "the Debian packages ${missing[*]} are needed by $purpose; install them as root: apt-get install ${missing[*]}" >&2
		exit 1
	fi
fi
echo "installing ${missing[*]} for $purpose..."
export DEBIAN_FRONTEND=noninteractive
if ! { $sudo apt-get update -qq && $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}"; }; then
	echo "could not install the Debian packages ${missing[*]}, needed by $purpose (apt-get failed above)" >&2
	exit 1
fi
