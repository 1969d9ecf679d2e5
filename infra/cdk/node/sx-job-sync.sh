#!/bin/bash
# sx-job-sync: runs on every Batch node (a systemd service the launch template installs), with the
# instance role, which customer containers cannot reach (IMDSv2 hop limit 1, ECS_AWSVPC_BLOCK_IMDS).
# For each job container (one that has SX_CHECKPOINT_URI in its environment):
#   - on start: restores SX_CHECKPOINT_URI into the container's /sx/checkpoints volume and fetches
#     its inputs (SX_INPUTS) into its /sx/input volume (read-only in the container), then marks the
#     checkpoint directory restored (.sx-restored), which releases sx-entry, the container's first
#     process, to start the job's command. Inputs that cannot be fetched fail the job as
#     `infrastructure` (TerminateJob with reason sx:infrastructure) and the command never starts;
#   - reports when the job's command really started and ended (sx-entry's .sx-started and .sx-exited
#     marks) to SX_RUN_URI<attempt>.json, which the Batch event adapter bills instead of the
#     container's run time: fetching inputs and saving outputs are not billed. Each report is written
#     before anything that lets Batch see the attempt end; an attempt whose command never started
#     (inputs or checkpoint not fetched) is reported as such and costs nothing (docs/billing.md);
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
MARKERS=(--exclude .sx-restored --exclude .sx-started --exclude .sx-interrupted --exclude .sx-stopped --exclude .sx-exited --exclude .sx-saved)
POLL="${SX_EXIT_POLL_SECONDS:-1}"
# sx-entry exits within a second of .sx-saved; a container still up this long after it did not end its command.
EXIT_CONFIRM="${SX_EXIT_CONFIRM_SECONDS:-30}"
# This service's own notes on each container (when its command started), out of the containers' reach.
STATE="${SX_STATE_DIR:-/run/sx-job-sync}"
mkdir -p "$STATE"
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

now_ms() { date +%s%3N; }
# When sx-entry marked FILE (ms since the epoch), kept within [LOW, now]. The marks are in the job's own
# directory, which its command can write: a forged or re-touched mark moves the span billed by at most
# one poll, because the bounds are this service's own observations (not seen at LOW, seen now).
marked() {
  local t low="$2" high
  high="$(now_ms)"
  t="$(date -r "$1" +%s%3N 2>/dev/null)" || t="$high"
  ((t < low)) && t="$low"
  ((t > high)) && t="$high"
  echo "$t"
}
# report C STARTED [STOPPED]: the command's run in this attempt (ms, STARTED null when it never ran),
# as SX_RUN_URI<attempt>.json. Billing (functions/command-runs.ts) takes the span within Batch's own
# start and stop of the attempt; without a report, or without STOPPED, Batch's times are billed.
report() {
  local c="$1" started="$2" stopped="${3:-}" uri attempt
  saver "$c" || return 0
  uri="$(envof "$c" SX_RUN_URI)"
  [ -n "$uri" ] || return 0
  attempt="$(envof "$c" AWS_BATCH_JOB_ATTEMPT)"
  [[ "$attempt" =~ ^[1-9][0-9]*$ ]] || attempt=1
  retry put_text "{\"attempt\":$attempt,\"commandStartedAt\":$started${stopped:+,\"commandStoppedAt\":$stopped}}" "$uri$attempt.json" ||
    log "$c: could not report the command's run; Batch's times are billed"
}
put_text() { printf '%s\n' "$1" | aws s3 cp --only-show-errors - "$2"; }

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
    report "$c" null
    return 0
  fi
  if ! fetch_inputs "$c"; then
    log "$c: inputs could not be fetched; failing the job as infrastructure"
    report "$c" null
    fail_infrastructure "$c"
    return 0
  fi
  watch "$c" "$ckpt"
}

# Releases the command, reports its start and end, saves periodically and when it has ended.
watch() {
  local c="$1" ckpt="$2" prev at started='' stopped saved_at=$SECONDS
  prev="$(now_ms)"
  touch "$ckpt/.sx-restored"
  while running "$c"; do
    at="$(now_ms)"
    if [ -z "$started" ] && [ -e "$ckpt/.sx-started" ]; then
      started="$(marked "$ckpt/.sx-started" "$prev")"
      echo "$started" >"$STATE/$c.started"
      report "$c" "$started"
    fi
    if [ -n "$started" ] && [ -e "$ckpt/.sx-exited" ]; then
      # The command has ended; sx-entry waits for this save before the container exits.
      stopped="$(marked "$ckpt/.sx-exited" "$((prev > started ? prev : started))")"
      report "$c" "$started" "$stopped"
      save "$c"
      touch "$ckpt/.sx-saved"
      confirm_exit "$c" && return 0
      log "$c: its command was marked ended but the container still runs; billing its whole run"
      report "$c" "$started"
      keep_saving "$c"
      return 0
    fi
    prev="$at"
    sleep "$POLL"
    # Bash's own clock: POLL may be a fraction of a second, which $(( )) cannot add.
    if [ $((SECONDS - saved_at)) -ge "$INTERVAL" ]; then
      saved_at=$SECONDS
      [ -e "$ckpt/.sx-exited" ] || save "$c"
    fi
  done
}

running() { [ "$(docker inspect -f '{{.State.Running}}' "$1" 2>/dev/null)" = "true" ]; }
# Whether the container stops within EXIT_CONFIRM seconds, as it does once sx-entry sees .sx-saved.
confirm_exit() {
  local since=$SECONDS
  while running "$1"; do
    [ $((SECONDS - since)) -ge "$EXIT_CONFIRM" ] && return 1
    sleep "$POLL"
  done
}
# Saves every SX_SYNC_INTERVAL seconds while the container runs (it is saved again when it dies).
keep_saving() {
  local saved_at=$SECONDS
  while running "$1"; do
    sleep "$POLL"
    if [ $((SECONDS - saved_at)) -ge "$INTERVAL" ]; then
      saved_at=$SECONDS
      save "$1"
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
  local c="$1" ckpt waited=0 signalled started
  ckpt="$(mountof "$c" /sx/checkpoints)"
  [ -n "$ckpt" ] || return 0
  touch "$ckpt/.sx-interrupted"
  signalled="$(now_ms)"
  docker kill --signal TERM "$c" >/dev/null || log "$c: could not signal it"
  # sx-entry marks .sx-stopped when the command has ended (SIGKILL at the grace at the latest).
  while [ ! -e "$ckpt/.sx-stopped" ] && [ "$waited" -lt $((GRACE + 10)) ]; do
    sleep 1
    waited=$((waited + 1))
  done
  # The command's end, no earlier than this SIGTERM, and no later than now (the wait's end at most).
  started="$(cat "$STATE/$c.started" 2>/dev/null)"
  [ -n "$started" ] && [ -e "$ckpt/.sx-stopped" ] && report "$c" "$started" "$(marked "$ckpt/.sx-stopped" "$((signalled > started ? signalled : started))")"
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
      die) [ -n "$(envof "$id" SX_CHECKPOINT_URI)" ] && { save "$id"; rm -f "$STATE/$id.started"; } & ;;
    esac
  done
  # Docker went away: let the saves under way finish; systemd starts the service again.
  wait
}
[ -z "$watcher" ] || kill "$watcher" 2>/dev/null
log "docker events ended"
exit 1
