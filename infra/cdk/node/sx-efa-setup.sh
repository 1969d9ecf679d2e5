#!/bin/bash
# sx-efa-setup: the first thing a node of the on-demand (multi-node) compute environment runs. It
# installs the EFA software and checks that every EFA device is there. A node without them must not
# take jobs: a multi-node job placed on it could not open /dev/infiniband (or would crawl over TCP).
# So on any failure it keeps the ECS agent from starting, so the node never joins the cluster, and
# shuts the instance down (the launch template terminates it on shutdown); Batch launches another.
set -uo pipefail
URL="${SX_EFA_INSTALLER_URL:-https://efa-installer.amazonaws.com/aws-efa-installer-latest.tar.gz}"
DEVICES="${SX_EFA_DEVICE_DIR:-/dev/infiniband}"
EXPECTED="${SX_EFA_INTERFACES:-4}"
WORK="${SX_EFA_WORK_DIR:-/tmp}"

leave() {
  echo "sx-efa-setup: $*; the node leaves instead of joining without EFA" >&2
  systemctl mask --now ecs.service
  shutdown -h now
  exit 1
}

curl -fsSL --retry 5 -o "$WORK/aws-efa-installer.tar.gz" "$URL" || leave "could not download the EFA installer from $URL"
tar -xf "$WORK/aws-efa-installer.tar.gz" -C "$WORK" || leave "the EFA installer archive is unreadable"
(cd "$WORK/aws-efa-installer" && ./efa_installer.sh -y --minimal) || leave "the EFA installer failed"
found=0
for i in $(seq 0 $((EXPECTED - 1))); do
  [ -e "$DEVICES/uverbs$i" ] && found=$((found + 1))
done
[ "$found" -eq "$EXPECTED" ] || leave "found $found of $EXPECTED EFA devices ($DEVICES/uverbs0…$((EXPECTED - 1)))"
echo "sx-efa-setup: $found EFA devices ready" >&2
