package main

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"os/signal"
	"syscall"
	"time"

	gossh "golang.org/x/crypto/ssh"

	"flightdeck/config"
	"flightdeck/world"
)

// shutdownGrace is how long sessions get to say goodbye on SIGTERM.
const shutdownGrace = 5 * time.Second

// runServe is `flightdeck serve`: one world (hub, capabilities, journal)
// and an SSH server giving each session its own cockpit on it.
func runServe(args []string, stdout, stderr io.Writer) error {
	var f flags
	var listen string
	fs := newFlagSet("flightdeck serve", &f, stderr)
	fs.StringVar(&listen, "listen", "", "host:port to listen on (overrides serve.listen; default "+config.DefaultServeListen+")")
	fs.BoolVar(&f.demo, "demo", false, "serve the built-in demo incident (no servers needed)")
	fs.StringVar(&f.logFile, "log", "", "write logs to this file (default: stderr)")
	fs.Usage = func() {
		fmt.Fprint(stderr, `Usage:
  flightdeck serve [--config PATH] [--listen HOST:PORT] [--demo] [--log FILE]

Serves a cockpit per SSH session to the users (and keys) listed under
serve.users in the config. Connect with: ssh -p 2222 HOST

Flags:
`)
		fs.PrintDefaults()
	}
	if help, err := parseFlags(fs, args); help || err != nil {
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
	log, closeLog, err := serveLog(f.logFile, stderr)
	if err != nil {
		return err
	}
	defer closeLog()

	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGINT, syscall.SIGTERM)
	defer stop()
	// The hub outlives the signal: sessions keep their data while they say
	// goodbye.
	hubCtx, stopHub := context.WithCancel(context.Background())
	defer stopHub()
	w, err := world.Build(hubCtx, cfg, world.Options{Demo: f.demo, Log: log})
	if err != nil {
		return &exitError{code: 1, msg: "flightdeck serve: " + err.Error()}
	}
	defer w.Close()

	srv, err := w.Server(sc, log)
	if err != nil {
		return &exitError{code: 1, msg: "flightdeck " + err.Error()}
	}
	w.Start()
	if err := srv.Start(); err != nil {
		stopHub()
		w.Wait()
		return &exitError{code: 1, msg: "flightdeck " + err.Error()}
	}
	fmt.Fprintf(stdout, "flightdeck serve: listening on %s (host key %s); ssh -p PORT HOST to connect\n",
		srv.Addr(), gossh.FingerprintSHA256(srv.HostKey()))

	<-ctx.Done()
	stop()
	sctx, cancel := context.WithTimeout(context.Background(), shutdownGrace)
	defer cancel()
	err = srv.Shutdown(sctx)
	stopHub()
	w.Wait()
	if err != nil {
		log.Warn("shutdown", "err", err.Error())
	}
	return nil
}

// serveLog writes to the --log file, else to stderr: here no UI owns the
// terminal, and under systemd stderr is the journal.
func serveLog(path string, stderr io.Writer) (*slog.Logger, func(), error) {
	if path != "" {
		return openLog(path)
	}
	return slog.New(slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: slog.LevelInfo})), func() {}, nil
}
