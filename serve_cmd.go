package main

import (
	"context"
	"fmt"
	"io"
	"os/signal"
	"syscall"

	"flightdeck/config"
	"flightdeck/internal/cli"
	"flightdeck/world"
)

// runServe is `flightdeck serve`: one world (hub, capabilities, journal)
// and an SSH server giving each session its own cockpit on it.
func runServe(args []string, stdout, stderr io.Writer) error {
	var f flags
	var listen string
	fs := newFlagSet(cli.Serve.Name, &f)
	fs.StringVar(&listen, "listen", "", "`HOST:PORT` to listen on (overrides serve.listen; default "+config.DefaultServeListen+")")
	fs.BoolVar(&f.demo, "demo", false, "serve the built-in demo incident (no servers needed)")
	fs.StringVar(&f.logFile, "log", "", "write logs to this `FILE` (default: stderr)")
	if help, err := parseFlags(cli.Serve, fs, args, stdout); help || err != nil {
		return err
	}
	cfg, err := loadConfig(f.config, f.demo)
	if err != nil {
		return err
	}
	if cfg.Serve == nil {
		return &exitError{code: 1, msg: "flightdeck serve: the config has no serve: section; list who may connect under serve.users (name, role, keys)"}
	}
	sc := cfg.Serve
	if listen != "" {
		sc.Listen = listen
	}
	log, closeLog, err := openLog(f.logFile, stderr)
	if err != nil {
		return err
	}
	defer closeLog()

	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGINT, syscall.SIGTERM)
	defer stop()
	context.AfterFunc(ctx, stop) // a second signal ends the process at once
	// The world outlives the signal: Serve lets sessions say goodbye with
	// their data, then stops it.
	w, err := world.Build(context.Background(), cfg, world.Options{Demo: f.demo, Log: log})
	if err != nil {
		return &exitError{code: 1, msg: "flightdeck serve: " + err.Error()}
	}
	defer w.Close()
	err = w.Serve(ctx, sc, log, func(addr, hostKey, connect string) {
		fmt.Fprintf(stdout, "flightdeck serve: listening on %s (host key %s); connect with: %s\n", addr, hostKey, connect)
	})
	if err != nil {
		return &exitError{code: 1, msg: "flightdeck " + err.Error()}
	}
	return nil
}
