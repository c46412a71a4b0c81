#!/usr/bin/env bash
# kwok-bin.sh — build (if missing) sigs.k8s.io/kwok, which the log tests run beside the
# real kube-apiserver of scripts/kube-bins.sh: it simulates nodes and pods (no kubelet, no
# containers) and serves their logs through the kubelet endpoint, from files the tests
# write, so `pods/log` travels the real path (API server → kubelet endpoint → file).
#
# Prints the binary's path on stdout (last line). Idempotent and atomic like kube-bins.sh.
set -euo pipefail

KWOK_VERSION="${KWOK_VERSION:-v0.8.0}"
CACHE="${FLIGHTDECK_CACHE:-$HOME/.cache/flightdeck}"
DIR="$CACHE/kwok-$KWOK_VERSION"

die() { echo "kwok-bin: $*" >&2; exit 1; }

if [[ -x "$DIR/kwok" ]]; then
	echo "$DIR/kwok"
	exit 0
fi
command -v go >/dev/null || die "go not found in PATH"
mkdir -p "$CACHE"
WORK="$(mktemp -d "$CACHE/.kwok-build.XXXXXX")"
trap 'rm -rf "$WORK"' EXIT
echo "kwok-bin: building sigs.k8s.io/kwok/cmd/kwok@$KWOK_VERSION — a minute or two" >&2
mkdir -p "$WORK/out"
GOBIN="$WORK/out" GOFLAGS=-mod=mod GOWORK=off go install -trimpath -ldflags "-s -w" "sigs.k8s.io/kwok/cmd/kwok@$KWOK_VERSION" ||
	die "build failed (see messages above)"
[[ -x "$WORK/out/kwok" ]] || die "build finished but the binary is missing"
if ! mv -T "$WORK/out" "$DIR" 2>/dev/null; then
	[[ -x "$DIR/kwok" ]] || die "cannot move the binary to $DIR"
fi
echo "kwok-bin: ready in $DIR" >&2
echo "$DIR/kwok"
