#!/bin/sh
# sx-entry: the first word of every job's command (functions/adapters/batch-job-definitions.ts),
# mounted read-only from the host at /sx/bin. It waits until the host's sx-job-sync has restored the
# job's checkpoint directory from S3 (a retried attempt resumes from it), then runs the job's own
# command, passing it SIGTERM and SIGINT, and exits with its exit code.
# A Spot interruption (sx-job-sync marks the checkpoint directory .sx-interrupted, then sends
# SIGTERM): the command gets SX_STOP_GRACE_SECONDS to checkpoint, then SIGKILL; sx-entry marks the
# directory .sx-stopped (sx-job-sync then saves it) and stays up until the host goes away, so Batch
# ends the attempt as "Host EC2 … terminated" and retries the job from that checkpoint.
# It marks the directory .sx-started just before the command starts and .sx-exited as soon as it has
# ended: the node reads the two marks' times and reports them, and only that span is billed (not the
# inputs' download before it, nor the outputs' save after it).
# When the command has ended, sx-entry marks the directory .sx-exited and waits (at most
# SX_SAVE_TIMEOUT_SECONDS) until sx-job-sync has saved the checkpoint and output directories
# (.sx-saved): the outputs are in S3 before Batch sees the job end.
# Fails with exit code 70 when the restore has not finished within SX_RESTORE_TIMEOUT_SECONDS.
dir="${SX_CHECKPOINT_DIR:-/sx/checkpoints}"
limit="${SX_RESTORE_TIMEOUT_SECONDS:-900}"
grace="${SX_STOP_GRACE_SECONDS:-30}"
save_limit="${SX_SAVE_TIMEOUT_SECONDS:-900}"
waited=0
while [ ! -e "$dir/.sx-restored" ]; do
  if [ "$waited" -ge "$limit" ]; then
    echo "sx-entry: the checkpoint directory was not restored within ${limit}s; failing this attempt" >&2
    exit 70
  fi
  sleep 1
  waited=$((waited + 1))
done
if [ "$#" -eq 0 ]; then
  echo "sx-entry: no command to run" >&2
  exit 64
fi

touch "$dir/.sx-started"
"$@" &
child=$!
stop() {
  kill -s "$1" "$child" 2>/dev/null
  # SIGKILL after the grace, as ECS does on a Batch stop: here also when the stop is our own.
  [ -n "$killer" ] || {
    (
      trap 'kill "$sleeper" 2>/dev/null; exit 0' TERM
      sleep "$grace" &
      sleeper=$!
      wait "$sleeper" && kill -s KILL "$child" 2>/dev/null
    ) &
    killer=$!
  }
}
killer=
trap 'stop TERM' TERM
trap 'stop INT' INT
# `wait` returns early when a trapped signal arrives; wait again until the command itself has ended
# (kill -0 also finds it while it is a zombie not yet reaped, whose status the next wait returns).
while :; do
  wait "$child"
  status=$?
  kill -0 "$child" 2>/dev/null || break
done
[ -z "$killer" ] || kill "$killer" 2>/dev/null
if [ -e "$dir/.sx-interrupted" ]; then
  touch "$dir/.sx-stopped"
  echo "sx-entry: stopped for a Spot interruption (exit $status); the checkpoint is being saved and the job resumes on another host" >&2
  trap - TERM INT
  while :; do sleep 3600; done
fi
touch "$dir/.sx-exited"
waited=0
while [ ! -e "$dir/.sx-saved" ] && [ "$waited" -lt "$save_limit" ]; do
  sleep 1
  waited=$((waited + 1))
done
[ -e "$dir/.sx-saved" ] || echo "sx-entry: the outputs were not saved within ${save_limit}s; the node saves them again as the container ends" >&2
exit "$status"
