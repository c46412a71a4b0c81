#!/usr/bin/env bash
# Make sure the real servers the integration tests start are installed:
# PostgreSQL, Prometheus, Alertmanager, etcd, tmux, moto_server (and
# pg_activity for make bench-pg, OpenSSH's sshd and client for make
# bench-serve). As root, missing Debian packages are
# installed with apt-get; otherwise this fails with the exact command to run.
# moto_server is a Python package apt cannot install: its absence always
# fails, naming the command.
set -euo pipefail

want_bench=${1:-}
missing=()
need() { # need PACKAGE TEST-COMMAND...
	local pkg=$1; shift
	if ! "$@" >/dev/null 2>&1; then missing+=("$pkg"); fi
}
has_initdb() { ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 || command -v initdb; }

need postgresql has_initdb
need prometheus command -v prometheus
need prometheus-alertmanager command -v prometheus-alertmanager
need etcd-server command -v etcd
need tmux command -v tmux
if [[ "$want_bench" == "--bench" ]]; then
	need pg-activity command -v pg_activity
fi
if [[ "$want_bench" == "--bench-serve" ]]; then # the tmux arm's bastion and clients
	need openssh-server test -x /usr/sbin/sshd
	need openssh-client command -v ssh
fi

# moto_server: the AWS emulator the sources/aws tests start.
moto=0
if [[ -n "${FLIGHTDECK_MOTO_SERVER:-}" ]]; then
	[[ -x "$FLIGHTDECK_MOTO_SERVER" ]] || moto=1
elif ! command -v moto_server >/dev/null 2>&1; then
	moto=1
fi
moto_report() {
	if ((moto)); then
		echo "flightdeck tests need moto_server (moto 5.2.1, the AWS emulator; not a Debian package)" >&2
		echo "run:  pip install 'moto[server]==5.2.1'   (or set FLIGHTDECK_MOTO_SERVER to its path)" >&2
		return 1
	fi
}

if ((${#missing[@]} == 0)); then
	moto_report
	exit 0
fi
cmd="apt-get install -y --no-install-recommends ${missing[*]}"
if [[ $(id -u) -ne 0 ]]; then
	echo "flightdeck tests need: ${missing[*]}" >&2
	echo "run:  sudo apt-get update && sudo $cmd" >&2
	moto_report || true
	exit 1
fi
echo "installing ${missing[*]} (apt-get)" >&2
export DEBIAN_FRONTEND=noninteractive
apt-get update -q >&2
# Debian's postinst scripts try to start services; there is no init here and
# the tests start their own instances on free loopback ports.
printf '#!/bin/sh\nexit 101\n' > /usr/sbin/policy-rc.d.flightdeck
chmod +x /usr/sbin/policy-rc.d.flightdeck
[[ -e /usr/sbin/policy-rc.d ]] || ln -s /usr/sbin/policy-rc.d.flightdeck /usr/sbin/policy-rc.d
$cmd >&2
if [[ -L /usr/sbin/policy-rc.d && "$(readlink /usr/sbin/policy-rc.d)" == /usr/sbin/policy-rc.d.flightdeck ]]; then
	rm -f /usr/sbin/policy-rc.d
fi
rm -f /usr/sbin/policy-rc.d.flightdeck
moto_report
