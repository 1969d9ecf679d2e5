#!/bin/sh
# sx-entry: the first word of every job's command (functions/adapters/batch-compute.ts), mounted
# read-only from the host at /sx/bin. It waits until the host's sx-job-sync has restored the job's
# checkpoint directory from S3 (a retried attempt resumes from it), then runs the job's own command
# in its place (exec: signals such as Batch's SIGTERM reach the command directly).
# Fails with exit code 70 when the restore has not finished within SX_RESTORE_TIMEOUT_SECONDS.
dir="${SX_CHECKPOINT_DIR:-/sx/checkpoints}"
limit="${SX_RESTORE_TIMEOUT_SECONDS:-900}"
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
exec "$@"
