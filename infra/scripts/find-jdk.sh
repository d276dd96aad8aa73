#!/usr/bin/env bash
# Prints the home of a JDK that can build for Java 21 (21 or newer). Prefers Temurin 25, where this project is
# built and tested; never assumes JAVA_HOME points at one.
set -euo pipefail
candidates=(/usr/lib/jvm/temurin-25-jdk-amd64 /usr/lib/jvm/temurin-25-jdk-arm64 /usr/lib/jvm/temurin-25-jdk)
for d in /usr/lib/jvm/*; do candidates+=("$d"); done
[ -n "${JAVA_HOME:-}" ] && candidates+=("$JAVA_HOME")
for d in "${candidates[@]}"; do
  if [ -x "$d/bin/javac" ]; then
    v=$("$d/bin/java" -XshowSettings:properties -version 2>&1 | awk -F'= ' '/java.specification.version/ {print $2}')
    if [ -n "$v" ] && [ "${v%%.*}" -ge 21 ] 2>/dev/null; then echo "$d"; exit 0; fi
  fi
done
echo "no JDK 21+ found under /usr/lib/jvm (install Temurin 21 or newer)" >&2
exit 1
