#!/bin/bash
# sx-job-sync: runs on every Batch node (a systemd service the launch template installs), with the
# instance role, which customer containers cannot reach (IMDSv2 hop limit 1, ECS_AWSVPC_BLOCK_IMDS).
# For each job container (one that has SX_CHECKPOINT_URI in its environment):
#   - on start: restores SX_CHECKPOINT_URI into the container's /sx/checkpoints volume, then marks it
#     restored (.sx-restored), which releases sx-entry, the container's first process;
#   - while it runs: saves /sx/checkpoints to SX_CHECKPOINT_URI every SX_SYNC_INTERVAL seconds;
#   - when it dies (exit, SIGKILL after the stop grace, Spot draining): saves /sx/checkpoints and
#     /sx/output to SX_CHECKPOINT_URI and SX_OUTPUT_URI.
# Of a multi-node job only the main node saves (every node restores). Each S3 step is retried.
set -uo pipefail
INTERVAL="${SX_SYNC_INTERVAL:-300}"

log() { echo "sx-job-sync: $*" >&2; }
envof() { docker inspect -f '{{range .Config.Env}}{{println .}}{{end}}' "$1" 2>/dev/null | sed -n "s/^$2=//p" | head -n 1; }
mountof() { docker inspect -f "{{range .Mounts}}{{if eq .Destination \"$2\"}}{{.Source}}{{end}}{{end}}" "$1" 2>/dev/null; }
retry() { local n=0; until "$@"; do n=$((n + 1)); [ "$n" -ge 5 ] && return 1; sleep $((n * 5)); done; }
saver() {
  local index main
  index="$(envof "$1" AWS_BATCH_JOB_NODE_INDEX)"
  main="$(envof "$1" AWS_BATCH_JOB_MAIN_NODE_INDEX)"
  [ -z "$index" ] || [ "$index" = "$main" ]
}

save() {
  local c="$1" ckpt out
  saver "$c" || return 0
  ckpt="$(mountof "$c" /sx/checkpoints)"
  out="$(mountof "$c" /sx/output)"
  [ -n "$ckpt" ] && { retry aws s3 sync --only-show-errors --exclude .sx-restored "$ckpt" "$(envof "$c" SX_CHECKPOINT_URI)" || log "$c: checkpoint save failed"; }
  [ -n "$out" ] && { retry aws s3 sync --only-show-errors "$out" "$(envof "$c" SX_OUTPUT_URI)" || log "$c: output save failed"; }
  return 0
}

restore() {
  local c="$1" uri ckpt out
  uri="$(envof "$c" SX_CHECKPOINT_URI)"
  [ -n "$uri" ] || return 0
  ckpt="$(mountof "$c" /sx/checkpoints)"
  out="$(mountof "$c" /sx/output)"
  [ -n "$ckpt" ] || { log "$c: no /sx/checkpoints volume"; return 0; }
  # The volumes are the task's own; a job running as a non-root user must be able to write them.
  chmod 0777 "$ckpt" ${out:+"$out"}
  if retry aws s3 sync --only-show-errors "$uri" "$ckpt"; then
    touch "$ckpt/.sx-restored"
  else
    log "$c: restore from $uri failed; sx-entry fails the attempt at its timeout"
    return 0
  fi
  while [ "$(docker inspect -f '{{.State.Running}}' "$c" 2>/dev/null)" = "true" ]; do
    sleep "$INTERVAL"
    [ "$(docker inspect -f '{{.State.Running}}' "$c" 2>/dev/null)" = "true" ] && save "$c"
  done
}

docker events --filter type=container --filter event=start --filter event=die --format '{{.Status}} {{.ID}}' |
  while read -r event id; do
    case "$event" in
      start) restore "$id" & ;;
      die) [ -n "$(envof "$id" SX_CHECKPOINT_URI)" ] && save "$id" & ;;
    esac
  done
