#!/usr/bin/env bash
# Check PDF/A-2b files with veraPDF 1.28.2 (greenfield), fetched once from Maven Central with mvn.
# Usage: scripts/verapdf.sh FILE.pdf...   prints one "PASS|FAIL FILE 2b" line per file (text format);
# exit status non-zero when a file fails. The jars are kept in $AKTE_VERAPDF_HOME (~/.cache/akte-verapdf).
set -euo pipefail
home="${AKTE_VERAPDF_HOME:-$HOME/.cache/akte-verapdf}"
version=1.28.2
if [ ! -f "$home/lib/greenfield-apps-$version.jar" ]; then
    mkdir -p "$home"
    cat > "$home/pom.xml" <<POM
<project xmlns="http://maven.apache.org/POM/4.0.0">
  <modelVersion>4.0.0</modelVersion>
  <groupId>local</groupId><artifactId>akte-verapdf</artifactId><version>1</version>
  <dependencies>
    <dependency><groupId>org.verapdf.apps</groupId><artifactId>greenfield-apps</artifactId><version>$version</version></dependency>
  </dependencies>
</project>
POM
    mvn -q -f "$home/pom.xml" dependency:copy-dependencies -DoutputDirectory="$home/lib" >&2
fi
exec java -cp "$home/lib/*" org.verapdf.apps.GreenfieldCliWrapper --flavour 2b --format text "$@"
