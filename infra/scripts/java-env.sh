# Sourced by the scripts that run Java (bench.sh, load.sh, redrive.sh) from the repository root: the build JDK
# (Temurin 25, found by find-jdk.sh, never an inherited JAVA_HOME) first on PATH, and Maven's JVM options.
JAVA_HOME="$(infra/scripts/find-jdk.sh)"
export JAVA_HOME
export PATH="$JAVA_HOME/bin:$PATH"
export MAVEN_OPTS="${MAVEN_OPTS:---sun-misc-unsafe-memory-access=allow}"
