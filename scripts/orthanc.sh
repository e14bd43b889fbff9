#!/usr/bin/env bash
# A private Orthanc PACS on loopback for the DICOMweb tests (Debian's orthanc + orthanc-dicomweb packages).
#   scripts/orthanc.sh start     write the config (first time) and start it; prints `export …` lines for the tests
#   scripts/orthanc.sh stop      stop it (harmless when it is not running)
# Storage, index, config, log and pid file live in $FRACVIEW_ORTHANC_DIR (default /tmp/fracview-orthanc-$port) and
# are reused, so a second run is quick; `start` resets nothing (the tests delete what they upload). It has its own
# ports and folder, so it neither needs nor disturbs Debian's orthanc service.
# It asks for HTTP Basic credentials, so the tests authenticate the way a client of a hospital PACS would.
# Orthanc 1.10 has no bind-address option: the HTTP server listens on every interface, and RemoteAccessAllowed
# false makes it refuse every client but 127.0.0.1 (use 127.0.0.1, not localhost: ::1 counts as remote). The
# config also names HttpBindAddresses, which later Orthanc versions (after 1.12) honour and 1.10 ignores.
# The DICOM (DIMSE) server, which cannot be bound to loopback either, is off: the tests speak DICOMweb only.
set -euo pipefail
# The server outlives this script: it must not inherit the caller's descriptors (a test's pipes or ptys).
for fd in /proc/$$/fd/*; do n=${fd##*/}; if [ "$n" -gt 2 ] 2>/dev/null; then eval "exec $n>&-" 2>/dev/null || true; fi; done
port=${FRACVIEW_ORTHANC_HTTP_PORT:-58042}
dicom_port=${FRACVIEW_ORTHANC_DICOM_PORT:-54242}
dir=${FRACVIEW_ORTHANC_DIR:-/tmp/fracview-orthanc-$port}
user=fracview
password=fracview-test-only
bin=/usr/sbin/Orthanc
plugin=/usr/share/orthanc/plugins/libOrthancDicomWeb.so
[ -x "$bin" ] || { echo "orthanc.sh: Orthanc is not installed (apt-get install orthanc orthanc-dicomweb)" >&2; exit 1; }
[ -e "$plugin" ] || { echo "orthanc.sh: the DICOMweb plugin is not installed (apt-get install orthanc-dicomweb)" >&2; exit 1; }

# The pid of our Orthanc, or nothing. A server killed with the session that started it leaves its pid file, and the
# PID may since belong to another process: trust it only if that process is Orthanc, alive, and uses our config.
running_pid() {
  local pid state
  [ -f "$dir/orthanc.pid" ] || return 0
  pid=$(cat "$dir/orthanc.pid" 2>/dev/null || true)
  [ -n "$pid" ] || return 0
  state=$(awk '{print $3}' "/proc/$pid/stat" 2>/dev/null || true) # Z: killed, not yet reaped
  if [ "$(cat "/proc/$pid/comm" 2>/dev/null)" = Orthanc ] && [ "$state" != Z ] &&
     tr '\0' '\n' <"/proc/$pid/cmdline" 2>/dev/null | grep -qxF "$dir/orthanc.json"; then
    echo "$pid"
  else
    rm -f "$dir/orthanc.pid"
  fi
}

alive() { # a killed process stays a zombie (Z) until reaped, and PID 1 in a container may never reap it
  kill -0 "$1" 2>/dev/null && [ "$(awk '{print $3}' "/proc/$1/stat" 2>/dev/null)" != Z ]
}

answers() {
  curl -fsS -o /dev/null --max-time 2 -u "$user:$password" "http://127.0.0.1:$port/system" 2>/dev/null
}

write_config() {
  # Rewritten on every start (cheap, and picks up a changed port); the data in $dir/storage is kept.
  cat >"$dir/orthanc.json.tmp" <<JSON
{
  "Name" : "fracview-test",
  "StorageDirectory" : "$dir/storage",
  "IndexDirectory" : "$dir/storage",
  "StorageCompression" : false,
  "OverwriteInstances" : true,
  "HttpServerEnabled" : true,
  "HttpPort" : $port,
  "HttpBindAddresses" : [ "127.0.0.1" ],
  "RemoteAccessAllowed" : false,
  "AuthenticationEnabled" : true,
  "RegisteredUsers" : { "$user" : "$password" },
  "HttpDescribeErrors" : true,
  "WebDavEnabled" : false,
  "DicomServerEnabled" : false,
  "DicomAet" : "FRACVIEWTEST",
  "DicomPort" : $dicom_port,
  "SaveJobs" : false,
  "StableAge" : 5,
  "Plugins" : [ "$plugin" ],
  "DicomWeb" : {
    "Enable" : true,
    "Root" : "/dicom-web/",
    "EnableWado" : true,
    "WadoRoot" : "/wado",
    "StudiesMetadata" : "Full",
    "SeriesMetadata" : "Full"
  }
}
JSON
  mv -f "$dir/orthanc.json.tmp" "$dir/orthanc.json"
}

start() {
  mkdir -p "$dir/storage"
  [ -w "$dir/storage" ] || { echo "orthanc.sh: $dir/storage is not writable" >&2; exit 1; }
  pid=$(running_pid)
  if [ -z "$pid" ]; then
    if answers; then
      echo "orthanc.sh: something else already answers on 127.0.0.1:$port (FRACVIEW_ORTHANC_HTTP_PORT picks another port)" >&2
      exit 1
    fi
    write_config
    # Its own session, no terminal, no inherited descriptors: it survives the caller and its signals.
    setsid "$bin" --logfile="$dir/orthanc.log" "$dir/orthanc.json" </dev/null >>"$dir/stdout.log" 2>&1 &
    pid=$! # setsid execs Orthanc in place (a background child is no group leader), so this is Orthanc's pid
    echo "$pid" >"$dir/orthanc.pid"
  fi
  for _ in $(seq 1 300); do # up to 30 s (the first start creates the index)
    answers && break
    if [ -z "$pid" ] || ! alive "$pid"; then
      echo "orthanc.sh: Orthanc exited; end of $dir/orthanc.log:" >&2
      tail -n 20 "$dir/orthanc.log" "$dir/stdout.log" >&2 2>/dev/null || true
      rm -f "$dir/orthanc.pid"; exit 1
    fi
    sleep 0.1
  done
  answers || { echo "orthanc.sh: Orthanc (pid $pid) does not answer on 127.0.0.1:$port; see $dir/orthanc.log" >&2; exit 1; }
  echo "export FRACVIEW_TEST_DICOMWEB_URL='http://$user:$password@127.0.0.1:$port/dicom-web'"
  echo "export FRACVIEW_TEST_ORTHANC_URL='http://127.0.0.1:$port'"
  echo "export FRACVIEW_TEST_ORTHANC_USER='$user' FRACVIEW_TEST_ORTHANC_PASSWORD='$password'"
}

stop() {
  local pid
  pid=$(running_pid)
  [ -n "$pid" ] || return 0
  kill -TERM "$pid" 2>/dev/null || true
  for _ in $(seq 1 100); do # up to 10 s, then force it
    alive "$pid" || break
    sleep 0.1
  done
  if alive "$pid"; then kill -KILL "$pid" 2>/dev/null || true; fi
  rm -f "$dir/orthanc.pid"
}

case "${1:-start}" in
  start) start ;;
  stop) stop ;;
  *) echo "usage: $0 start|stop" >&2; exit 2 ;;
esac
