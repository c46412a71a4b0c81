// Command flightdeck is a terminal incident cockpit: SLOs and error budgets,
// alerts, PostgreSQL activity and Kubernetes rollouts on one screen, with
// guarded, audited actions.
//
// main only parses flags, runs subcommands and chooses exit codes: config →
// world.Build (sources, hub, ops) → session → ui. The world itself is
// package world.
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
	"sync"
	"syscall"

	tea "charm.land/bubbletea/v2"

	"flightdeck/config"
	"flightdeck/internal/cli"
	"flightdeck/internal/stderrlog"
	"flightdeck/termcap"
	"flightdeck/ui"
	"flightdeck/world"
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

// newFlagSet is a command's flags with --config. Errors are worded by
// parseFlags, help by cli.Command.Help: the flag package prints nothing.
func newFlagSet(name string, f *flags) *flag.FlagSet {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	fs.Usage = func() {}
	fs.StringVar(&f.config, "config", "", "config file `PATH` (default $FLIGHTDECK_CONFIG, then "+config.DefaultPath()+")")
	return fs
}

// parseFlags parses a command's flags the one way every subcommand does:
// --help prints its help on stdout and ends the command successfully
// (help=true); a bad flag or a stray argument is exit status 2, named, with
// the way to the command's help.
func parseFlags(cmd cli.Command, fs *flag.FlagSet, args []string, stdout io.Writer) (help bool, err error) {
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			cmd.Flags = fs
			cmd.Help(stdout)
			return true, nil
		}
		return false, &exitError{code: 2, msg: fmt.Sprintf("%s: %v (see %s --help)", cmd.Name, err, cmd.Name)}
	}
	if fs.NArg() > 0 {
		return false, &exitError{code: 2, msg: fmt.Sprintf("%s: unexpected argument %q (see %s --help)", cmd.Name, fs.Arg(0), cmd.Name)}
	}
	return false, nil
}

// runHelp is `flightdeck help [COMMAND]`: that command's help on stdout.
func runHelp(args []string, stdout, stderr io.Writer) error {
	switch strings.Join(args, " ") {
	case "":
		return run([]string{"--help"}, stdout, stderr)
	case "config check":
		return runConfig([]string{"check", "--help"}, stdout, stderr)
	case "help", "version":
		map[string]cli.Command{"help": cli.Help, "version": cli.VersionCmd}[args[0]].Help(stdout)
		return nil
	}
	if len(args) == 1 && subcommands[args[0]] != nil {
		return subcommands[args[0]]([]string{"--help"}, stdout, stderr)
	}
	return &exitError{code: 2, msg: fmt.Sprintf("flightdeck help: no command %q (see flightdeck --help)", strings.Join(args, " "))}
}

// runVersion is `flightdeck version`.
func runVersion(args []string, stdout, _ io.Writer) error {
	fs := flag.NewFlagSet(cli.VersionCmd.Name, flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	if help, err := parseFlags(cli.VersionCmd, fs, args, stdout); help || err != nil {
		return err
	}
	fmt.Fprintln(stdout, "flightdeck", cli.Version(version))
	return nil
}

var subcommands map[string]func(args []string, stdout, stderr io.Writer) error

func init() {
	subcommands = map[string]func(args []string, stdout, stderr io.Writer) error{
		"config": runConfig, "serve": runServe, "timeline": runTimeline, "help": runHelp, "version": runVersion}
}

func run(args []string, stdout, stderr io.Writer) error {
	if len(args) > 0 && subcommands[args[0]] != nil {
		return subcommands[args[0]](args[1:], stdout, stderr)
	}
	var f flags
	fs := newFlagSet("flightdeck", &f)
	fs.BoolVar(&f.demo, "demo", false, "run on the built-in demo incident (no servers needed)")
	fs.BoolVar(&f.readOnly, "read-only", false, "observe only: every action is refused")
	fs.StringVar(&f.theme, "theme", "", "colour `NAME`: dark, light, high-contrast (overrides config)")
	fs.StringVar(&f.logFile, "log", "", "write logs to this `FILE` (the terminal belongs to the UI)")
	fs.BoolVar(&f.version, "version", false, "print the version and exit")
	fs.BoolVar(&f.breakGlass, "break-glass", false, "run two-person actions without a co-signer (asks for a reason; journaled, announced)")
	if help, err := parseFlags(cli.Root, fs, args, stdout); help || err != nil {
		return err
	}
	if f.version {
		fmt.Fprintln(stdout, "flightdeck", cli.Version(version))
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
	// The break-glass reason is asked on the terminal before stderr goes
	// to the log (openLog), or the prompt would vanish into it.
	var glassReason string
	if f.breakGlass {
		if glassReason, err = cli.AskBreakGlass(os.Stdin, stderr); err != nil {
			return &exitError{code: 1, msg: "flightdeck: " + err.Error()}
		}
	}
	log, closeLog, err := openLog(f.logFile, nil)
	if err != nil {
		return err
	}
	defer closeLog()

	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM, syscall.SIGHUP)
	defer stop()
	w, err := world.Build(ctx, cfg, world.Options{Demo: f.demo, ReadOnly: f.readOnly, Log: log})
	if err != nil {
		return &exitError{code: 1, msg: "flightdeck: " + err.Error()}
	}
	defer w.Close()
	local := w.LocalSession(ctx, os.Environ())
	if f.breakGlass {
		if err := w.BreakGlass(local, glassReason); err != nil {
			return &exitError{code: 1, msg: "flightdeck: " + err.Error()}
		}
	}
	session, err := w.NewSession(local)
	if err != nil {
		return &exitError{code: 1, msg: "flightdeck: " + err.Error()}
	}

	w.Start()
	p := tea.NewProgram(ui.New(session.Options()), tea.WithContext(ctx), tea.WithFPS(ui.FPS),
		tea.WithColorProfile(termcap.Detect(os.Stdout, os.Environ())))
	_, err = p.Run()
	stop()
	w.Wait()
	if errors.Is(err, tea.ErrProgramPanic) { // its trace went to stderr, that is to the log
		return &exitError{code: 1, msg: "flightdeck: the cockpit crashed:\n" + strings.Join(closeLog(), "\n")}
	}
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
		return nil, &exitError{code: 1, msg: cli.GettingStarted(config.DefaultPath())}
	}
	cfg, err := config.Load(path)
	if err != nil {
		return nil, &exitError{code: 1, msg: err.Error()}
	}
	if err := world.CheckKeys(cfg); err != nil {
		return nil, &exitError{code: 1, msg: err.Error()}
	}
	if demo {
		cfg.Environment = "demo"
	}
	return cfg, nil
}

func runConfig(args []string, stdout, stderr io.Writer) error {
	if len(args) > 0 && (args[0] == "--help" || args[0] == "-h" || args[0] == "-help") {
		cli.Config.Help(stdout)
		return nil
	}
	if len(args) == 0 || args[0] != "check" {
		return &exitError{code: 2, msg: "usage: flightdeck config check [--config PATH] (see flightdeck config --help)"}
	}
	var f flags
	fs := newFlagSet(cli.ConfigCheck.Name, &f)
	if help, err := parseFlags(cli.ConfigCheck, fs, args[1:], stdout); help || err != nil {
		return err
	}
	path, err := config.Locate(f.config)
	if err != nil {
		return &exitError{code: 1, msg: "flightdeck: no config file: pass --config PATH or set FLIGHTDECK_CONFIG (default " + config.DefaultPath() + ")"}
	}
	cfg, err := config.Load(path)
	if err == nil {
		err = world.Check(cfg, func(w error) { fmt.Fprintln(stderr, "warning:", w) })
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

// openLog opens the log: the --log file; else, given stderr (serve, where
// no UI owns the terminal and under systemd stderr is the journal), a text
// log there; else nowhere. Unless the log is stderr itself, whatever is
// written to fd 2 (libraries, credential helpers, exec plugins) goes to
// the log, sanitized, until closeLog, which returns the last lines written
// (stderrlog.Capture.Tail): only the UI writes to its terminal.
func openLog(path string, stderr io.Writer) (log *slog.Logger, closeLog func() []string, err error) {
	if path == "" && stderr != nil {
		return slog.New(slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: slog.LevelInfo})), func() []string { return nil }, nil
	}
	log, closeFile := slog.New(slog.DiscardHandler), func() {}
	if path != "" {
		f, err := os.OpenFile(path, os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o600)
		if err != nil {
			return nil, nil, &exitError{code: 1, msg: "flightdeck: --log: " + err.Error()}
		}
		log, closeFile = slog.New(slog.NewJSONHandler(f, &slog.HandlerOptions{Level: slog.LevelDebug})), func() { f.Close() }
	}
	capture, err := stderrlog.Start(log)
	if err != nil {
		closeFile()
		return nil, nil, &exitError{code: 1, msg: "flightdeck: " + err.Error()}
	}
	var once sync.Once
	return log, func() []string { once.Do(func() { capture.Stop(); closeFile() }); return capture.Tail() }, nil
}
