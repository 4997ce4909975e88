#!/bin/sh
# The TEST STAND-IN for the k3s binary that the QEMU boots use, as `k3s server`, without
# QEMU: against the K3s double on loopback in a private mount namespace, it creates the
# cluster CA on first start, keeps it on the next (what a server's data disk must give it),
# serves /cacerts and /ping with it, writes the token and k3s.yaml, and registers its Node
# (tests/e2e/standin-server-check.sh). Needs root and unshare (skipped otherwise).
cd "$(dirname "$0")/.." || exit 1
exec sh tests/e2e/standin-server-check.sh
