#!/usr/bin/env bash
# Prints the Python interpreter `make install` builds the virtualenv from.
#
# Why not simply `python3`: the same hub code costs ~12 % fewer instructions per message
# and ~15 % less CPU on a CPython built with profile-guided and link-time optimisation
# (PGO + LTO, statically linked) than on a plain build such as pyenv's default (see
# docs/performance.md). Debian's and Ubuntu's /usr/bin/python3 are such builds, as is the
# python:3.11-slim image the Dockerfile runs on; sysconfig does not record it, so the
# choice is by origin: the distribution's interpreter first, then python3 on PATH.
# Either must be 3.11 or later and able to make a virtualenv (venv and ensurepip).
# `make PYTHON=/path/to/python3 install` overrides the choice.
set -euo pipefail

usable() {
    "$1" -c 'import sys, venv, ensurepip; sys.exit(sys.version_info < (3, 11))' 2>/dev/null
}

for candidate in /usr/bin/python3 "$(command -v python3 || true)"; do
    if [[ -n "$candidate" && -x "$candidate" ]] && usable "$candidate"; then
        echo "$candidate"
        exit 0
    fi
done
# None usable: hand python3 on to make, whose version check explains what is missing.
echo python3
