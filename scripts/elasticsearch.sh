#!/usr/bin/env bash
# Run a local single-node Elasticsearch for development, tests and benchmarks.
#
#   bash scripts/elasticsearch.sh start    fetch (once), configure, start, wait for health
#   bash scripts/elasticsearch.sh stop     stop the node started here (by its pid file)
#   bash scripts/elasticsearch.sh status   exit 0 when the node answers, 1 otherwise
#
# The node is Elastic's minimal server distribution from Maven Central
# (org.elasticsearch.distribution.integ-test-zip), which bundles no JDK and lacks
# analysis-common: aktenarchiv analyses German text in Python, so it needs none of it.
# Loopback only, security off, heap 512 MB: a test node, never a production cluster.
#
# Environment:
#   AKTE_ES_VERSION  server version (default 8.19.3; keep the major equal to the Python client's)
#   AKTE_ES_PORT     HTTP port (default 9200)
#   AKTE_ES_HOME     state directory (default <repo>/.es; see below for root)
#   ES_JAVA_HOME     JDK to run it with (default: JDK 17 from Debian, else the `java` on PATH)
#
# Elasticsearch refuses to run as root. As root the node runs as the system user
# `akte-es` (created on first start); as any other user it runs as that user.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
VERSION="${AKTE_ES_VERSION:-8.19.3}"
PORT="${AKTE_ES_PORT:-9200}"
ES_USER="akte-es"
URL="http://127.0.0.1:${PORT}"
HEALTH_TIMEOUT=120

log() { printf 'elasticsearch.sh: %s\n' "$*" >&2; }
die() { log "$*"; exit 1; }

is_root() { [ "$(id -u)" -eq 0 ]; }

# Every ancestor of the state directory must be searchable by the node's user. A clone
# under /root (mode 700) is not, so root falls back to a directory under /var/lib keyed
# by the repository path: start, stop and status all compute the same one.
state_dir() {
    if [ -n "${AKTE_ES_HOME:-}" ]; then
        echo "$AKTE_ES_HOME"
        return
    fi
    local dir="$ROOT/.es" probe="$ROOT"
    if is_root; then
        while [ "$probe" != "/" ]; do
            if [ "$(( $(stat -c '%a' "$probe") % 10 & 1 ))" -eq 0 ]; then
                echo "/var/lib/akte-es/$(printf '%s' "$ROOT" | sha256sum | cut -c1-12)"
                return
            fi
            probe="$(dirname "$probe")"
        done
    fi
    echo "$dir"
}

STATE="$(state_dir)"
HOME_DIR="$STATE/elasticsearch-$VERSION"
CONF_DIR="$STATE/config"
PID_FILE="$STATE/es.pid"

java_home() {
    if [ -n "${ES_JAVA_HOME:-}" ]; then
        echo "$ES_JAVA_HOME"
    elif [ -x /usr/lib/jvm/java-17-openjdk-amd64/bin/java ]; then
        echo /usr/lib/jvm/java-17-openjdk-amd64
    elif command -v java >/dev/null; then
        dirname "$(dirname "$(readlink -f "$(command -v java)")")"
    else
        return 1
    fi
}

ensure_tools() {
    local missing=()
    command -v mvn >/dev/null || missing+=(maven)
    command -v curl >/dev/null || missing+=(curl)
    command -v unzip >/dev/null || missing+=(unzip)
    java_home >/dev/null || missing+=(openjdk-17-jre-headless)
    [ ${#missing[@]} -eq 0 ] && return
    if is_root && command -v apt-get >/dev/null; then
        log "installing ${missing[*]}"
        apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null
    else
        die "missing tools: ${missing[*]} (install them, or run as root on Debian)"
    fi
}

fetch() {
    [ -x "$HOME_DIR/bin/elasticsearch" ] && return
    local dist="$STATE/dist" zip
    mkdir -p "$dist"
    zip="$dist/elasticsearch-$VERSION.zip"
    if [ ! -s "$zip" ]; then
        log "fetching Elasticsearch $VERSION (integ-test-zip) with Maven"
        mvn -q -B dependency:copy \
            -Dartifact="org.elasticsearch.distribution.integ-test-zip:elasticsearch:$VERSION:zip" \
            -DoutputDirectory="$dist" >"$dist/mvn.log" 2>&1 \
            || { cat "$dist/mvn.log" >&2; die "could not fetch Elasticsearch $VERSION from Maven Central"; }
    fi
    # Unzip beside the final name and rename, so an interrupted unzip is never mistaken
    # for a complete installation.
    rm -rf "$HOME_DIR.part"
    mkdir -p "$HOME_DIR.part"
    unzip -q "$zip" -d "$HOME_DIR.part"
    mv "$HOME_DIR.part/elasticsearch-$VERSION" "$HOME_DIR"
    rm -rf "$HOME_DIR.part"
}

configure() {
    mkdir -p "$CONF_DIR" "$STATE/data" "$STATE/logs" "$STATE/tmp"
    # jvm.options, log4j2 etc. come from the distribution; elasticsearch.yml is ours.
    cp -r "$HOME_DIR/config/." "$CONF_DIR/"
    {
        echo "cluster.name: aktenarchiv-dev"
        echo "node.name: akte-local"
        echo "discovery.type: single-node"
        echo "network.host: 127.0.0.1"
        echo "http.port: $PORT"
        echo "path.data: $STATE/data"
        echo "path.logs: $STATE/logs"
        # Test machines often have full-ish disks; a read-only index would fail tests.
        echo "cluster.routing.allocation.disk.threshold_enabled: false"
        # Tests and bench delete their own indices by exact name only.
        echo "action.destructive_requires_name: true"
        # The minimal distribution ships x-pack-security; without it the setting is unknown.
        if [ -d "$HOME_DIR/modules/x-pack-security" ]; then
            echo "xpack.security.enabled: false"
        fi
    } >"$CONF_DIR/elasticsearch.yml"
}

ensure_user() {
    is_root || return 0
    if ! id "$ES_USER" >/dev/null 2>&1; then
        useradd --system --no-create-home --home-dir /nonexistent --shell /usr/sbin/nologin "$ES_USER"
    fi
    chown -R "$ES_USER:" "$STATE"
}

running_pid() {
    [ -s "$PID_FILE" ] || return 1
    local pid
    pid="$(cat "$PID_FILE")"
    kill -0 "$pid" 2>/dev/null || return 1
    echo "$pid"
}

healthy() {
    curl -fsS --max-time 5 "$URL/_cluster/health?wait_for_status=yellow&timeout=1s" >/dev/null 2>&1
}

wait_healthy() {
    local deadline=$((SECONDS + HEALTH_TIMEOUT))
    while [ $SECONDS -lt $deadline ]; do
        healthy && return 0
        running_pid >/dev/null || break  # the JVM died: no point in waiting longer
        sleep 1
    done
    return 1
}

start() {
    if running_pid >/dev/null && healthy; then
        log "already running at $URL (pid $(running_pid))"
        return
    fi
    # Any HTTP status (even an error) means something else owns the port.
    if ! running_pid >/dev/null \
        && [ "$(curl -s -o /dev/null -w '%{http_code}' --max-time 2 "$URL/" || true)" != "000" ]; then
        die "port $PORT already answers but not from a node started here; stop it or set AKTE_ES_PORT"
    fi
    ensure_tools
    mkdir -p "$STATE"
    fetch
    configure
    ensure_user
    if ! running_pid >/dev/null; then
        local jhome cmd
        jhome="$(java_home)"
        rm -f "$PID_FILE"
        cmd=(env "ES_JAVA_HOME=$jhome" "ES_PATH_CONF=$CONF_DIR" "ES_TMPDIR=$STATE/tmp"
             "ES_JAVA_OPTS=-Xms512m -Xmx512m"
             "$HOME_DIR/bin/elasticsearch" -d -p "$PID_FILE")
        log "starting Elasticsearch $VERSION on $URL (state in $STATE)"
        if is_root; then
            runuser -u "$ES_USER" -- "${cmd[@]}" >"$STATE/logs/console.log" 2>&1 || start_failed
        else
            "${cmd[@]}" >"$STATE/logs/console.log" 2>&1 || start_failed
        fi
    fi
    wait_healthy || start_failed
    log "ready at $URL"
}

start_failed() {
    log "Elasticsearch did not become healthy within ${HEALTH_TIMEOUT}s; last log lines:"
    tail -n 40 "$STATE/logs/console.log" "$STATE/logs/aktenarchiv-dev.log" >&2 2>/dev/null || true
    exit 1
}

stop() {
    local pid
    if ! pid="$(running_pid)"; then
        log "not running"
        rm -f "$PID_FILE"
        return
    fi
    kill "$pid"
    for _ in $(seq 1 60); do
        kill -0 "$pid" 2>/dev/null || { log "stopped (pid $pid)"; rm -f "$PID_FILE"; return; }
        sleep 0.5
    done
    log "pid $pid did not stop within 30 s; killing it"
    kill -9 "$pid" 2>/dev/null || true
    rm -f "$PID_FILE"
}

status() {
    local pid
    if pid="$(running_pid)" && healthy; then
        echo "running: pid $pid, $URL, state in $STATE"
    elif pid="$(running_pid)"; then
        echo "starting or unhealthy: pid $pid, $URL"
        exit 1
    else
        echo "not running ($URL)"
        exit 1
    fi
}

case "${1:-}" in
    start) start ;;
    stop) stop ;;
    status) status ;;
    *) echo "usage: $0 start|stop|status" >&2; exit 2 ;;
esac
