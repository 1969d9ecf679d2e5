#!/bin/bash
# sx-job-sync: runs on every Batch node (a systemd service the launch template installs), with the
# instance role, which customer containers cannot reach (IMDSv2 hop limit 1, ECS_AWSVPC_BLOCK_IMDS).
# For each job container (one that has SX_CHECKPOINT_URI in its environment):
#   - on start: restores SX_CHECKPOINT_URI into the container's /sx/checkpoints volume, then marks it
#     restored (.sx-restored), which releases sx-entry, the container's first process;
#   - while it runs: saves /sx/checkpoints to SX_CHECKPOINT_URI every SX_SYNC_INTERVAL seconds;
#   - when it dies (exit, SIGKILL after the stop grace, Spot draining): saves /sx/checkpoints and
#     /sx/output to SX_CHECKPOINT_URI and SX_OUTPUT_URI.
#   - on a Spot node (SX_SPOT=true), when the instance metadata service announces the interruption
#     (spot/instance-action, two minutes ahead): marks each job's checkpoint directory .sx-interrupted
#     and sends it SIGTERM; sx-entry gives the command SX_STOP_GRACE_SECONDS to checkpoint, kills it,
#     marks .sx-stopped and stays up, and this saves the checkpoint at once. (ECS Spot draining does
#     not stop standalone tasks such as Batch jobs: without this a job would just die with the host.)
# Of a multi-node job only the main node saves (every node restores). Each S3 step is retried.
# Container events are read from Docker's current fields (Action, Actor.ID): the old status/id
# fields are gone from Docker Engine 29 (API 1.52).
set -uo pipefail
INTERVAL="${SX_SYNC_INTERVAL:-300}"
IMDS="${SX_IMDS_URL:-http://169.254.169.254}"
SPOT_POLL="${SX_SPOT_POLL_SECONDS:-5}"
GRACE="${SX_STOP_GRACE_SECONDS:-30}"
MARKERS=(--exclude .sx-restored --exclude .sx-interrupted --exclude .sx-stopped)

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
  [ -n "$ckpt" ] && { retry aws s3 sync --only-show-errors "${MARKERS[@]}" "$ckpt" "$(envof "$c" SX_CHECKPOINT_URI)" || log "$c: checkpoint save failed"; }
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

# IMDSv2: a session token, then the notice (404 until an interruption is scheduled).
instance_action() {
  local token
  token="$(curl -sf -X PUT "$IMDS/latest/api/token" -H 'X-aws-ec2-metadata-token-ttl-seconds: 60')" || return 1
  curl -sf -H "X-aws-ec2-metadata-token: $token" "$IMDS/latest/meta-data/spot/instance-action"
}

interrupt() {
  local c="$1" ckpt waited=0
  ckpt="$(mountof "$c" /sx/checkpoints)"
  [ -n "$ckpt" ] || return 0
  touch "$ckpt/.sx-interrupted"
  docker kill --signal TERM "$c" >/dev/null || log "$c: could not signal it"
  # sx-entry marks .sx-stopped when the command has ended (SIGKILL at the grace at the latest).
  while [ ! -e "$ckpt/.sx-stopped" ] && [ "$waited" -lt $((GRACE + 10)) ]; do
    sleep 1
    waited=$((waited + 1))
  done
  save "$c"
}

spot_watch() {
  local notice c
  until notice="$(instance_action)"; do sleep "$SPOT_POLL"; done
  log "Spot interruption notice $notice: stopping job containers with ${GRACE}s grace and saving their checkpoints"
  for c in $(docker ps -q); do
    [ -n "$(envof "$c" SX_CHECKPOINT_URI)" ] && interrupt "$c" &
  done
  wait
}

watcher=
if [ "${SX_SPOT:-false}" = true ]; then
  spot_watch &
  watcher=$!
fi

docker events --filter type=container --filter event=start --filter event=die --format '{{.Action}} {{.Actor.ID}}' | {
  while read -r event id; do
    case "$event" in
      start) restore "$id" & ;;
      die) [ -n "$(envof "$id" SX_CHECKPOINT_URI)" ] && save "$id" & ;;
    esac
  done
  # Docker went away: let the saves under way finish; systemd starts the service again.
  wait
}
[ -z "$watcher" ] || kill "$watcher" 2>/dev/null
log "docker events ended"
exit 1
