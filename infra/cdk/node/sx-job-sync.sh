#!/bin/bash
# sx-job-sync: runs on every Batch node (a systemd service the launch template installs), with the
# instance role, which customer containers cannot reach (IMDSv2 hop limit 1, ECS_AWSVPC_BLOCK_IMDS).
# For each job container (one that has SX_CHECKPOINT_URI in its environment):
#   - on start: restores SX_CHECKPOINT_URI into the container's /sx/checkpoints volume and fetches
#     its inputs (SX_INPUTS) into its /sx/input volume (read-only in the container), then marks the
#     checkpoint directory restored (.sx-restored), which releases sx-entry, the container's first
#     process, to start the job's command. Inputs that cannot be fetched fail the job as
#     `infrastructure` (TerminateJob with reason sx:infrastructure) and the command never starts;
#   - while it runs: saves /sx/checkpoints to SX_CHECKPOINT_URI every SX_SYNC_INTERVAL seconds;
#   - when the command has ended (sx-entry marks .sx-exited and waits): saves /sx/checkpoints and
#     /sx/output, then marks .sx-saved, which lets sx-entry exit: the outputs are in S3 before Batch
#     sees the container end and reports the job final;
#   - when it dies (also SIGKILL after the stop grace, Spot draining): saves both again (a no-op when
#     nothing changed since).
# Transfers: s5cmd when the node has it (parallel ranged GETs over many connections), else the AWS
# CLI with its concurrency raised (SX_S3_CONCURRENCY, default 32 requests, 64 MiB ranges); see docs/data.md.
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
MARKERS=(--exclude .sx-restored --exclude .sx-interrupted --exclude .sx-stopped --exclude .sx-exited --exclude .sx-saved)
POLL="${SX_EXIT_POLL_SECONDS:-1}"
CONCURRENCY="${SX_S3_CONCURRENCY:-32}"

log() { echo "sx-job-sync: $*" >&2; }
envof() { docker inspect -f '{{range .Config.Env}}{{println .}}{{end}}' "$1" 2>/dev/null | sed -n "s/^$2=//p" | head -n 1; }
mountof() { docker inspect -f "{{range .Mounts}}{{if eq .Destination \"$2\"}}{{.Source}}{{end}}{{end}}" "$1" 2>/dev/null; }
RETRY_DELAY="${SX_RETRY_DELAY_SECONDS:-5}"
retry() { local n=0; until "$@"; do n=$((n + 1)); [ "$n" -ge 5 ] && return 1; sleep $((n * RETRY_DELAY)); done; }
saver() {
  local index main
  index="$(envof "$1" AWS_BATCH_JOB_NODE_INDEX)"
  main="$(envof "$1" AWS_BATCH_JOB_MAIN_NODE_INDEX)"
  [ -z "$index" ] || [ "$index" = "$main" ]
}

# The AWS CLI's transfer settings for this service's process only (its own config file).
if [ -z "${AWS_CONFIG_FILE:-}" ] && command -v aws >/dev/null; then
  export AWS_CONFIG_FILE="${SX_AWS_CONFIG:-/run/sx-job-sync.aws-config}"
  printf '[default]\ns3 =\n  max_concurrent_requests = %s\n  multipart_chunksize = 64MB\n  multipart_threshold = 64MB\n' "$CONCURRENCY" >"$AWS_CONFIG_FILE" 2>/dev/null || unset AWS_CONFIG_FILE
fi
# get_object URI FILE / get_prefix URI/ DIR: one object (ranged GETs in parallel), or every object under a prefix.
get_object() { if command -v s5cmd >/dev/null; then s5cmd --log error cp --concurrency "$CONCURRENCY" "$1" "$2"; else aws s3 cp --only-show-errors "$1" "$2"; fi; }
get_prefix() { if command -v s5cmd >/dev/null; then s5cmd --log error cp "$1*" "$2/"; else aws s3 sync --only-show-errors "$1" "$2"; fi; }

# fetch_input DIR NAME KIND URI FILENAME EXTRACT: one input into DIR/NAME/.
fetch_input() {
  local dir="$1/$2" kind="$3" uri="$4" filename="$5" extract="$6"
  mkdir -p "$dir" || return 1
  if [ "$kind" = job ]; then
    retry get_prefix "$uri" "$dir"
    return
  fi
  case "$filename" in */* | . | .. | '') log "refusing input file name '$filename'"; return 1 ;; esac
  retry get_object "$uri" "$dir/$filename" || return 1
  [ "$extract" = 1 ] || return 0
  case "$filename" in
    *.zip) unzip -q -o "$dir/$filename" -d "$dir" ;;
    *.tar.gz | *.tgz) tar -xzf "$dir/$filename" -C "$dir" --no-same-owner ;;
    *.tar) tar -xf "$dir/$filename" -C "$dir" --no-same-owner ;;
    *) false ;;
  esac || { log "$filename could not be unpacked"; return 1; }
  rm -f "$dir/$filename"
}

# Fetches every input of a container, in parallel; returns non-zero when any could not be fetched.
fetch_inputs() {
  local c="$1" spec in name kind uri filename extract pids=() failed=0
  spec="$(envof "$c" SX_INPUTS)"
  [ -n "$spec" ] || return 0
  in="$(mountof "$c" /sx/input)"
  [ -n "$in" ] || { log "$c: no /sx/input volume"; return 1; }
  while IFS=$'\t' read -r name kind uri filename extract; do
    [ -n "$name" ] || continue
    fetch_input "$in" "$name" "$kind" "$uri" "$filename" "$extract" &
    pids+=($!)
  done < <(base64 -d <<<"$spec")
  for p in "${pids[@]}"; do wait "$p" || failed=1; done
  # Readable by a job running as any user; the mount itself is read-only.
  chmod -R a+rX "$in"
  return "$failed"
}

# Fails the job as the service's fault: its command has not started, so nothing of it is billed as the job's run.
fail_infrastructure() {
  local c="$1" batch_job
  batch_job="$(envof "$c" AWS_BATCH_JOB_ID)"
  [ -n "$batch_job" ] || return 0
  retry aws batch terminate-job --job-id "$batch_job" --reason "sx:infrastructure" >/dev/null || log "$c: could not fail job $batch_job"
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
  if ! retry aws s3 sync --only-show-errors "$uri" "$ckpt"; then
    log "$c: restore from $uri failed; sx-entry fails the attempt at its timeout"
    return 0
  fi
  if ! fetch_inputs "$c"; then
    log "$c: inputs could not be fetched; failing the job as infrastructure"
    fail_infrastructure "$c"
    return 0
  fi
  touch "$ckpt/.sx-restored"
  local saved_at=$SECONDS
  while [ "$(docker inspect -f '{{.State.Running}}' "$c" 2>/dev/null)" = "true" ]; do
    if [ -e "$ckpt/.sx-exited" ]; then
      # The command has ended; sx-entry waits for this save before the container exits.
      save "$c"
      touch "$ckpt/.sx-saved"
      return 0
    fi
    sleep "$POLL"
    # Bash's own clock: POLL may be a fraction of a second, which $(( )) cannot add.
    if [ $((SECONDS - saved_at)) -ge "$INTERVAL" ]; then
      saved_at=$SECONDS
      [ -e "$ckpt/.sx-exited" ] || save "$c"
    fi
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
