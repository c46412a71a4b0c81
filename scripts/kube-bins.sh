#!/usr/bin/env bash
# kube-bins.sh — build (if missing) the real Kubernetes control plane binaries the
# sources/kube integration tests run against: kube-apiserver, kube-controller-manager
# and kubectl, from the k8s.io/kubernetes module at KUBE_VERSION.
#
# Why build from the module: there is no kubelet-free "test control plane" package we can
# apt-install, envtest's tarballs live outside the Go proxy, and the Go module proxy is
# already reachable. k8s.io/kubernetes cannot be required directly because its go.mod
# replaces every k8s.io/* staging module with ./staging/...; a throwaway module that
# re-points those replaces at the matching v0.x.y releases builds it cleanly.
#
# Prints the directory holding the binaries on stdout (last line). Idempotent: if all
# three binaries exist it just prints the dir. Atomic: builds into a temp dir next to the
# target and renames it into place, so an interrupted build never leaves a half dir.
set -euo pipefail

KUBE_VERSION="${KUBE_VERSION:-v1.31.4}"
STAGING_VERSION="v0.${KUBE_VERSION#v1.}"
CACHE="${FLIGHTDECK_CACHE:-$HOME/.cache/flightdeck}"
DIR="$CACHE/kube-$KUBE_VERSION"
BINS=(kube-apiserver kube-controller-manager kubectl)

die() { echo "kube-bins: $*" >&2; exit 1; }

have_all() {
	local b
	for b in "${BINS[@]}"; do [[ -x "$1/$b" ]] || return 1; done
}

if have_all "$DIR"; then
	echo "$DIR"
	exit 0
fi

command -v go >/dev/null || die "go not found in PATH"
mkdir -p "$CACHE"
WORK="$(mktemp -d "$CACHE/.kube-build.XXXXXX")"
trap 'rm -rf "$WORK"' EXIT

echo "kube-bins: building ${BINS[*]} from k8s.io/kubernetes $KUBE_VERSION (staging $STAGING_VERSION) — several minutes" >&2

# Fetch the kubernetes go.mod to learn the exact set of staging modules it replaces.
if ! KMOD_JSON="$(cd "$WORK" && GOFLAGS=-mod=mod go mod download -json "k8s.io/kubernetes@$KUBE_VERSION")"; then
	why="$(printf '%s\n' "$KMOD_JSON" | sed -n 's/^[[:space:]]*"Error": "\(.*\)",\{0,1\}$/\1/p')"
	die "cannot download k8s.io/kubernetes@$KUBE_VERSION (network / GOPROXY?): ${why:-see above}"
fi
KGOMOD="$(printf '%s\n' "$KMOD_JSON" | sed -n 's/^[[:space:]]*"GoMod": "\(.*\)",\{0,1\}$/\1/p')"
[[ -f "$KGOMOD" ]] || die "go.mod of k8s.io/kubernetes not found in module cache"
GOVER="$(sed -n 's/^go \([0-9.]*\)$/\1/p' "$KGOMOD" | head -1)"

# Every "k8s.io/x => ./staging/src/k8s.io/x" line becomes "k8s.io/x => k8s.io/x vSTAGING".
STAGING_MODS="$(sed -n 's#^[[:space:]]*\(k8s\.io/[a-z0-9-]*\) => \./staging/.*#\1#p' "$KGOMOD")"
[[ -n "$STAGING_MODS" ]] || die "no staging replaces found in $KGOMOD"

mkdir -p "$WORK/mod" "$WORK/out"
{
	echo "module kubebins"
	echo
	echo "go ${GOVER:-1.22}"
	echo
	echo "require k8s.io/kubernetes $KUBE_VERSION"
	echo
	echo "replace ("
	for m in $STAGING_MODS; do echo "	$m => $m $STAGING_VERSION"; done
	echo ")"
} >"$WORK/mod/go.mod"
# A tools-style file so `go mod tidy` keeps the main packages' deps.
cat >"$WORK/mod/tools.go" <<'GO'
//go:build tools

package kubebins

import (
	_ "k8s.io/kubernetes/cmd/kube-apiserver"
	_ "k8s.io/kubernetes/cmd/kube-controller-manager"
	_ "k8s.io/kubernetes/cmd/kubectl"
)
GO

(
	cd "$WORK/mod"
	export GOFLAGS=-mod=mod GOWORK=off
	go mod tidy -e >/dev/null 2>"$WORK/tidy.log" || { cat "$WORK/tidy.log" >&2; exit 1; }
	go build -trimpath -ldflags "-s -w -X k8s.io/component-base/version.gitVersion=$KUBE_VERSION -X k8s.io/client-go/pkg/version.gitVersion=$KUBE_VERSION" \
		-o "$WORK/out/" \
		k8s.io/kubernetes/cmd/kube-apiserver \
		k8s.io/kubernetes/cmd/kube-controller-manager \
		k8s.io/kubernetes/cmd/kubectl
) || die "build failed (see messages above)"

have_all "$WORK/out" || die "build finished but binaries are missing in $WORK/out"

# Atomic publish: rename the finished dir. If another run won the race, keep theirs.
if ! mv -T "$WORK/out" "$DIR" 2>/dev/null; then
	have_all "$DIR" || die "cannot move binaries to $DIR"
fi
echo "kube-bins: ready in $DIR" >&2
echo "$DIR"
