// Command flightdeck is a terminal incident cockpit: SLOs and error budgets,
// alerts, PostgreSQL activity and Kubernetes rollouts on one screen, with
// guarded, audited actions.
//
// main only parses flags and wires config → world (sources, hub, ops) →
// session → ui.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"strings"
	"syscall"

	tea "charm.land/bubbletea/v2"

	"flightdeck/config"
	"flightdeck/runbook"
	"flightdeck/termcap"
	"flightdeck/ui"
)

// version is set by the Makefile from git describe.
var version = "dev"

// exitError carries a message for the user and an exit code; never a stack trace.
type exitError struct {
	code int
	msg  string
}

func (e *exitError) Error() string { return e.msg }

func main() {
	if err := run(os.Args[1:], os.Stdout, os.Stderr); err != nil {
		var ee *exitError
		if errors.As(err, &ee) {
			if ee.msg != "" {
				fmt.Fprintln(os.Stderr, ee.msg)
			}
			os.Exit(ee.code)
		}
		fmt.Fprintln(os.Stderr, "flightdeck:", err)
		os.Exit(1)
	}
}

type flags struct {
	config   string
	demo     bool
	readOnly bool
	theme    string
	logFile  string
	version  bool
	// breakGlass lifts the two-person rule for the local session, with a
	// typed reason (breakglass.go).
	breakGlass bool
}

func newFlagSet(name string, f *flags, stderr io.Writer) *flag.FlagSet {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.StringVar(&f.config, "config", "", "config file (default $FLIGHTDECK_CONFIG, then "+config.DefaultPath()+")")
	return fs
}

// parseFlags parses a command's flags the one way every subcommand does:
// --help prints usage and ends the command successfully (help=true), a bad
// flag is exit status 2, and a stray argument is named with the command's
// own --help.
func parseFlags(fs *flag.FlagSet, args []string) (help bool, err error) {
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return true, nil
		}
		return false, &exitError{code: 2}
	}
	if fs.NArg() > 0 {
		return false, &exitError{code: 2, msg: fmt.Sprintf("%s: unexpected argument %q (see %s --help)", fs.Name(), fs.Arg(0), fs.Name())}
	}
	return false, nil
}

func run(args []string, stdout, stderr io.Writer) error {
	if len(args) > 0 && args[0] == "config" {
		return runConfig(args[1:], stdout, stderr)
	}
	if len(args) > 0 && args[0] == "serve" {
		return runServe(args[1:], stdout, stderr)
	}
	if len(args) > 0 && args[0] == "timeline" {
		return runTimeline(args[1:], stdout, stderr)
	}
	var f flags
	fs := newFlagSet("flightdeck", &f, stderr)
	fs.BoolVar(&f.demo, "demo", false, "run on the built-in demo incident (no servers needed)")
	fs.BoolVar(&f.readOnly, "read-only", false, "observe only: every action is refused")
	fs.StringVar(&f.theme, "theme", "", "colour theme: dark, light, high-contrast (overrides config)")
	fs.StringVar(&f.logFile, "log", "", "write logs to this file (the terminal belongs to the UI)")
	fs.BoolVar(&f.version, "version", false, "print the version and exit")
	fs.BoolVar(&f.breakGlass, "break-glass", false, "run two-person actions without a co-signer (asks for a reason; journaled, announced)")
	fs.Usage = func() {
		fmt.Fprint(stderr, `Usage:
  flightdeck [--config PATH] [--demo] [--read-only] [--theme NAME] [--log FILE] [--break-glass]
  flightdeck serve [--config PATH] [--listen HOST:PORT] [--demo] [--log FILE]
  flightdeck config check [--config PATH]
  flightdeck timeline [--config PATH] [--demo] [--since 2h] [--until TIME] [--format md|json]
  flightdeck --version

serve runs an SSH server: a cockpit per SSH session on one poller, for the
users and keys under serve.users (see flightdeck serve --help).

Flags:
`)
		fs.PrintDefaults()
	}
	if help, err := parseFlags(fs, args); help || err != nil {
		return err
	}
	if f.version {
		fmt.Fprintln(stdout, "flightdeck", version)
		return nil
	}

	cfg, err := loadConfig(f.config, f.demo)
	if err != nil {
		return err
	}
	// A full-screen cockpit on a terminal that cannot move its cursor is
	// garbage: say so before anything starts.
	if err := termcap.Check(os.Environ()); err != nil {
		return &exitError{code: 1, msg: err.Error()}
	}
	if f.theme != "" {
		cfg.Theme = f.theme
	}
	log, closeLog, err := openLog(f.logFile)
	if err != nil {
		return err
	}
	defer closeLog()

	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM, syscall.SIGHUP)
	defer stop()
	world, err := wire(ctx, cfg, wireOptions{demo: f.demo, readOnly: f.readOnly, log: log})
	if err != nil {
		return &exitError{code: 1, msg: "flightdeck: " + err.Error()}
	}
	defer world.Close()
	local := world.LocalSession(ctx, os.Environ())
	if f.breakGlass {
		reason, err := askBreakGlass(os.Stdin, stderr)
		if err == nil {
			err = world.BreakGlass(local, reason)
		}
		if err != nil {
			return err
		}
	}
	session, err := world.NewSession(local)
	if err != nil {
		return &exitError{code: 1, msg: "flightdeck: " + err.Error()}
	}

	world.Start(ctx)
	p := tea.NewProgram(ui.New(session), tea.WithContext(ctx), tea.WithFPS(ui.FPS),
		tea.WithColorProfile(termcap.Detect(os.Stdout, os.Environ())))
	_, err = p.Run()
	stop()
	world.Wait()
	if err != nil && !errors.Is(err, tea.ErrProgramKilled) && !errors.Is(err, context.Canceled) {
		return fmt.Errorf("terminal: %w", err)
	}
	return nil
}

// loadConfig finds and loads the config; with --demo a missing config is fine.
func loadConfig(explicit string, demo bool) (*config.Config, error) {
	path, err := config.Locate(explicit)
	if errors.Is(err, config.ErrNotFound) {
		if demo {
			c := config.Default()
			c.Environment = "demo"
			return c, nil
		}
		return nil, &exitError{code: 1, msg: gettingStarted()}
	}
	cfg, err := config.Load(path)
	if err != nil {
		return nil, &exitError{code: 1, msg: err.Error()}
	}
	if err := checkKeys(cfg); err != nil {
		return nil, &exitError{code: 1, msg: err.Error()}
	}
	if demo {
		cfg.Environment = "demo"
	}
	return cfg, nil
}

func gettingStarted() string {
	return strings.TrimSpace(fmt.Sprintf(`
flightdeck: no config file found.

  Try the built-in demo incident (no servers needed):
      flightdeck --demo

  Or write a config (see testdata/config/example.yaml in the source tree)
  to %s, or pass --config PATH, or set FLIGHTDECK_CONFIG.
  Check it with:
      flightdeck config check --config PATH`, config.DefaultPath()))
}

func runConfig(args []string, stdout, stderr io.Writer) error {
	if len(args) == 0 || args[0] != "check" {
		return &exitError{code: 2, msg: "usage: flightdeck config check [--config PATH]"}
	}
	var f flags
	fs := newFlagSet("flightdeck config check", &f, stderr)
	if help, err := parseFlags(fs, args[1:]); help || err != nil {
		return err
	}
	path, err := config.Locate(f.config)
	if err != nil {
		return &exitError{code: 1, msg: "flightdeck: no config file: pass --config PATH or set FLIGHTDECK_CONFIG (default " + config.DefaultPath() + ")"}
	}
	cfg, err := config.Load(path)
	if err == nil {
		err = checkKeys(cfg)
	}
	if err == nil {
		_, err = runbook.LoadAll(cfg.Runbooks)
	}
	if err == nil {
		err = checkSources(cfg, func(w error) { fmt.Fprintln(stderr, "warning:", w) })
	}
	if err != nil {
		return &exitError{code: 1, msg: err.Error()}
	}
	out, err := cfg.EffectiveYAML()
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "# %s: OK (effective config, secrets masked)\n%s", path, out)
	return nil
}

func openLog(path string) (*slog.Logger, func(), error) {
	if path == "" {
		return slog.New(slog.DiscardHandler), func() {}, nil
	}
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o600)
	if err != nil {
		return nil, nil, &exitError{code: 1, msg: "flightdeck: --log: " + err.Error()}
	}
	return slog.New(slog.NewJSONHandler(f, &slog.HandlerOptions{Level: slog.LevelDebug})), func() { f.Close() }, nil
}
