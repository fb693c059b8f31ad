#!/usr/bin/env bash
# Validate every *.json FHIR R4 resource in DIRECTORY with HAPI FHIR's FhirInstanceValidator.
# Fetches the validator's jars from Maven Central once (into the git-ignored cache), compiles
# the one Java source with the machine's javac 17 when it changed, then runs one JVM for the
# whole directory. Exit 0: no errors (warnings and information are printed); 1: errors.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(cd "$here/../.." && pwd)"
cache="${KETENHUB_FHIR_VALIDATOR_CACHE:-$root/.ketenhub/cache/fhir-validator}"
[[ $# -eq 1 && -d "$1" ]] || { echo "usage: $0 DIRECTORY" >&2; exit 2; }

stamp="$cache/lib/.pom-$(sha256sum "$here/pom.xml" | cut -c1-16)"
if [[ ! -e "$stamp" ]]; then
  echo "fetching HAPI FHIR validator jars into $cache/lib (once)" >&2
  rm -rf "$cache/lib"
  mvn -q -B -f "$here/pom.xml" -Dmaven.repo.local="$cache/m2" \
    dependency:copy-dependencies -DincludeScope=runtime -DoutputDirectory="$cache/lib" >&2
  touch "$stamp"
fi
source_file="$here/src/main/java/ketenhub/ValidateBundles.java"
classes="$cache/classes-$(sha256sum "$source_file" "$here/pom.xml" | sha256sum | cut -c1-16)"
if [[ ! -e "$classes/ketenhub/ValidateBundles.class" ]]; then
  mkdir -p "$classes"
  javac --release 17 -d "$classes" -cp "$cache/lib/*" "$source_file"
fi
exec java -Xss4m -cp "$classes:$cache/lib/*" ketenhub.ValidateBundles "$1"
