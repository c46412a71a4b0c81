package cli

import (
	"fmt"
	"strings"
)

// The words of flightdeck's commands. main attaches the flags (Flags) and
// decides exit codes; what each command is for, and how it is used, is
// said here once, for --help, `flightdeck help COMMAND` and the command list.

// Root is `flightdeck` itself: the cockpit in this terminal.
var Root = Command{
	Name:    "flightdeck",
	Summary: "a terminal incident cockpit",
	Usage: []string{
		"flightdeck [--config PATH] [--demo] [--read-only] [--theme NAME] [--log FILE] [--break-glass]",
		"flightdeck COMMAND [flags]",
	},
	About: `SLOs and error budgets, alerts, PostgreSQL activity (who blocks whom),
Kubernetes rollouts and AWS (RDS, ECS) on one screen, with every action
previewed, confirmed, policy-checked and journaled, and runbooks that check,
act and verify. Press ? inside for the keys.`,
	Examples: []string{
		"flightdeck --demo                  # the built-in incident, no servers needed",
		"flightdeck --config ~/oncall.yaml  # your estate",
		"flightdeck --read-only             # observe: every action is refused",
	},
}

// Serve is `flightdeck serve`.
var Serve = Command{
	Name:    "flightdeck serve",
	Summary: "serve a cockpit per SSH session on one world (operators and observers by key)",
	Usage:   []string{"flightdeck serve [--config PATH] [--listen HOST:PORT] [--demo] [--log FILE]"},
	About: `Runs an SSH server. Each session gets its own cockpit on one poller: the
upstreams cost what one cockpit costs, whoever watches. Who may connect, and
as operator or observer, is serve.users in the config; the start line says
the ssh command to connect with.`,
	Examples: []string{
		"flightdeck serve --demo --listen 127.0.0.1:2222",
		"ssh -p 2222 bastion.internal   # from a laptop",
	},
}

// Config is `flightdeck config`, whose one subcommand is check.
var Config = Command{
	Name:    "flightdeck config",
	Summary: "work with the config file",
	Usage:   []string{"flightdeck config check [--config PATH]"},
	About:   `check validates the config (file:line for every error) and prints it as it takes effect, secrets masked.`,
	Commands: []Command{
		{Name: "check", Summary: "validate the config and print it, secrets masked"},
	},
}

// ConfigCheck is `flightdeck config check`.
var ConfigCheck = Command{
	Name:    "flightdeck config check",
	Summary: "validate the config and print it, secrets masked",
	Usage:   []string{"flightdeck config check [--config PATH]"},
	About: `Loads the config as flightdeck would, checks every field (unknown keys,
bounds, URLs, key bindings, runbooks) and names the file, line and field of
each error. Then prints the effective config with secrets masked. Exit
status 1 when it is broken.`,
	Examples: []string{"flightdeck config check --config /etc/flightdeck/config.yaml"},
}

// Timeline is `flightdeck timeline`.
var Timeline = Command{
	Name:    "flightdeck timeline",
	Summary: "print the incident's timeline (Markdown or JSON)",
	Usage:   []string{"flightdeck timeline [--config PATH] [--demo] [--since 2h] [--until TIME] [--format md|json]"},
	About: `Prints the incident: the flight recorder's events (alerts, SLO levels,
rollouts, blockers, connections, sources down), the actions taken and the
runbook steps, with who did what, oldest first, times in UTC. --since and
--until take a duration before now (2h, 90m, 1.5d) or a time.`,
	Examples: []string{
		"flightdeck timeline --since 2h > postmortem.md",
		"flightdeck timeline --since 2026-03-14T03:00 --until 2026-03-14T05:00 --format json",
	},
}

// Help is `flightdeck help`.
var Help = Command{
	Name:    "flightdeck help",
	Summary: "help for flightdeck or one of its commands",
	Usage:   []string{"flightdeck help [COMMAND]"},
}

// VersionCmd is `flightdeck version`.
var VersionCmd = Command{
	Name:    "flightdeck version",
	Summary: "print the version",
	Usage:   []string{"flightdeck version", "flightdeck --version"},
}

func init() {
	Root.Commands = []Command{
		{Name: "serve", Summary: Serve.Summary},
		{Name: "config check", Summary: ConfigCheck.Summary},
		{Name: "timeline", Summary: Timeline.Summary},
		{Name: "help", Summary: Help.Summary},
		{Name: "version", Summary: VersionCmd.Summary},
	}
}

// GettingStarted is what flightdeck says when it finds no config: the demo
// first, then where a config goes (defaultPath).
func GettingStarted(defaultPath string) string {
	return strings.TrimSpace(fmt.Sprintf(`
flightdeck: no config file found.

  Try the built-in demo incident (no servers needed):
      flightdeck --demo

  Or write a config (see testdata/config/example.yaml in the source tree)
  to %s, or pass --config PATH, or set FLIGHTDECK_CONFIG.
  Check it with:
      flightdeck config check --config PATH`, defaultPath))
}
