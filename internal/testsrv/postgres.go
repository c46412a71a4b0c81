package testsrv

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
)

// PasswordRole is a group role created in every test server: members of it
// must authenticate with a password over TCP (scram-sha-256), every other
// role is trusted. Tests that need a "bad password" case create a login role
// with a password and GRANT PasswordRole to it.
const PasswordRole = "password_required"

// Postgres is a throwaway PostgreSQL server on loopback, in a temp dir.
type Postgres struct {
	Host   string // always 127.0.0.1
	Port   int
	BinDir string
	// Superuser is the bootstrap superuser's name ("postgres").
	Superuser string
	// Dir holds the data directory, the unix socket and the server log.
	Dir string

	dataDir, sockDir, logPath string
	// cred runs the server binaries as the postgres system user when we
	// are root (initdb and postgres refuse to run as root).
	cred *syscall.Credential
	mu   sync.Mutex
	proc *Proc // the running postmaster; nil when stopped
}

// DSN is a keyword/value connection string for user on database db over TCP.
func (p *Postgres) DSN(user, db string) string {
	return fmt.Sprintf("host=%s port=%d user=%s dbname=%s sslmode=disable connect_timeout=10", p.Host, p.Port, user, db)
}

// SuperuserDSN connects as the bootstrap superuser to database postgres.
func (p *Postgres) SuperuserDSN() string { return p.DSN(p.Superuser, "postgres") }

// Addr is host:port.
func (p *Postgres) Addr() string { return p.Host + ":" + strconv.Itoa(p.Port) }

// Connect opens a connection to dsn as application app (what
// pg_stat_activity shows of it), failing t when it cannot, and closes it
// when t ends. A cleanup the caller registers afterwards runs before the
// close: one that ends a statement still running on the connection.
func Connect(t testing.TB, dsn, app string) *pgx.Conn {
	t.Helper()
	cfg, err := pgx.ParseConfig(dsn)
	if err != nil {
		t.Fatal(err)
	}
	cfg.RuntimeParams["application_name"] = app
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	conn, err := pgx.ConnectConfig(ctx, cfg)
	if err != nil {
		t.Fatalf("connect %s: %v", app, err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_ = conn.Close(ctx)
	})
	return conn
}

// Exec runs SQL statements as the superuser on database postgres, failing t
// on error.
func (p *Postgres) Exec(t testing.TB, sqls ...string) {
	t.Helper()
	if err := p.exec(sqls...); err != nil {
		t.Fatal(err)
	}
}

func (p *Postgres) exec(sqls ...string) error {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	conn, err := pgx.Connect(ctx, p.SuperuserDSN())
	if err != nil {
		return err
	}
	defer conn.Close(context.Background())
	for _, q := range sqls {
		if _, err := conn.Exec(ctx, q); err != nil {
			return fmt.Errorf("%s: %w", q, err)
		}
	}
	return nil
}

// StartPostgres starts a private server for t and removes it when t ends.
// Use it for tests that stop or restart the server; others should share
// one through SharedPostgres.
func StartPostgres(t testing.TB) *Postgres { t.Helper(); return start(t, LaunchPostgres) }

var sharedPG sharedServer[*Postgres]

// SharedPostgres returns one server per test binary, started on first use:
// initdb costs seconds, tests cost milliseconds. The package's TestMain must
// call StopSharedPostgres after m.Run. Tests must not stop it.
func SharedPostgres(t testing.TB) *Postgres { t.Helper(); return sharedPG.get(t, LaunchPostgres) }

// StopSharedPostgres stops and removes the shared server, if it was started.
func StopSharedPostgres() { sharedPG.stop() }

// PostgresBinDir finds the server binaries: $PG_BIN_DIR, else the newest
// /usr/lib/postgresql/*/bin that has initdb.
func PostgresBinDir() (string, error) {
	if d := os.Getenv("PG_BIN_DIR"); d != "" {
		if _, err := os.Stat(filepath.Join(d, "initdb")); err != nil {
			return "", fmt.Errorf("postgres %w: PG_BIN_DIR=%s has no initdb", errUnavailable, d)
		}
		return d, nil
	}
	dirs, _ := filepath.Glob("/usr/lib/postgresql/*/bin")
	sort.Slice(dirs, func(i, j int) bool { return versionOf(dirs[i]) > versionOf(dirs[j]) })
	for _, d := range dirs {
		if _, err := os.Stat(filepath.Join(d, "initdb")); err == nil {
			return d, nil
		}
	}
	return "", fmt.Errorf("postgres %w: no initdb in $PG_BIN_DIR or /usr/lib/postgresql/*/bin; apt-get install postgresql", errUnavailable)
}

func versionOf(binDir string) float64 {
	v, _ := strconv.ParseFloat(filepath.Base(filepath.Dir(binDir)), 64)
	return v
}

// PGOptions ask for a server configured beyond the default.
type PGOptions struct {
	// Preload is shared_preload_libraries ("pg_stat_statements").
	Preload []string
	// Logical sets wal_level = logical, so the server can publish and
	// keep logical slots (replica, enough for streaming, is the default).
	Logical bool
	// Settings are more postgresql.conf lines ("pg_stat_statements.max = 10000").
	Settings []string
}

// StartPostgresWith starts a private server configured by o for t and
// removes it when t ends.
func StartPostgresWith(t testing.TB, o PGOptions) *Postgres {
	t.Helper()
	return start(t, func() (*Postgres, error) { return LaunchPostgresWith(o) })
}

// LaunchPostgres initialises and starts a server; the caller must Close it.
func LaunchPostgres() (*Postgres, error) { return LaunchPostgresWith(PGOptions{}) }

// extraConf is o's lines of postgresql.auto.conf.
func (o PGOptions) extraConf() string {
	var b strings.Builder
	if len(o.Preload) > 0 {
		fmt.Fprintf(&b, "shared_preload_libraries = '%s'\n", strings.Join(o.Preload, ","))
	}
	if o.Logical {
		b.WriteString("wal_level = logical\n")
	}
	for _, l := range o.Settings {
		b.WriteString(l + "\n")
	}
	return b.String()
}

// LaunchPostgresWith initialises and starts a server configured by o; the
// caller must Close it.
func LaunchPostgresWith(o PGOptions) (*Postgres, error) {
	bin, err := PostgresBinDir()
	if err != nil {
		return nil, err
	}
	p := &Postgres{Host: "127.0.0.1", BinDir: bin, Superuser: "postgres"}
	if os.Geteuid() == 0 {
		// initdb and postgres refuse to run as root.
		if p.cred, err = credentialOf("postgres"); err != nil {
			return nil, fmt.Errorf("postgres %w: running as root and there is no postgres system user to run the server as", errUnavailable)
		}
	}
	if p.Dir, err = os.MkdirTemp("", "flightdeck-pg-"); err != nil {
		return nil, err
	}
	p.dataDir = filepath.Join(p.Dir, "data")
	p.sockDir = filepath.Join(p.Dir, "sock")
	p.logPath = filepath.Join(p.Dir, "server.log")
	if err := os.Mkdir(p.sockDir, 0o700); err != nil {
		p.removeDir()
		return nil, err
	}
	if p.cred != nil {
		if err := chownTree(p.Dir, p.cred); err != nil {
			p.removeDir()
			return nil, err
		}
	}
	if out, err := p.command("initdb", "-D", p.dataDir, "-U", p.Superuser, "-A", "trust", "-E", "UTF8",
		"--locale=C", "--no-sync", "--no-instructions").CombinedOutput(); err != nil {
		p.removeDir()
		return nil, fmt.Errorf("initdb: %v\n%s", err, out)
	}
	hba := "# written by testsrv: loopback only\n" +
		"local all all trust\n" +
		"local replication all trust\n" +
		"host replication all 127.0.0.1/32 trust\n" +
		"host all +" + PasswordRole + " 127.0.0.1/32 scram-sha-256\n" +
		"host all all 127.0.0.1/32 trust\n"
	if err := p.writeFile(filepath.Join(p.dataDir, "pg_hba.conf"), hba); err != nil {
		p.removeDir()
		return nil, err
	}
	// Several tries: the free port may be taken between FreePort and bind.
	var lastErr error
	for try := 0; try < 3; try++ {
		port, err := freePort()
		if err != nil {
			p.removeDir()
			return nil, err
		}
		p.Port = port
		conf := fmt.Sprintf("listen_addresses = '127.0.0.1'\nport = %d\nunix_socket_directories = '%s'\n"+
			"fsync = off\nsynchronous_commit = off\nfull_page_writes = off\nmax_connections = 700\n"+
			"shared_buffers = 32MB\npassword_encryption = 'scram-sha-256'\nlogging_collector = off\n"+
			"log_min_messages = warning\nautovacuum = off\n", port, p.sockDir) + o.extraConf()
		if err := p.writeFile(filepath.Join(p.dataDir, "postgresql.auto.conf"), conf); err != nil {
			p.removeDir()
			return nil, err
		}
		if lastErr = p.start(); lastErr == nil {
			break
		}
	}
	if lastErr != nil {
		p.removeDir()
		return nil, lastErr
	}
	if err := p.exec("CREATE ROLE " + PasswordRole + " NOLOGIN"); err != nil {
		p.Close()
		return nil, err
	}
	return p, nil
}

// Standby makes a streaming standby of p (pg_basebackup -R, so it
// follows p through primary_conninfo), starts it on its own port and
// removes it when t ends.
func (p *Postgres) Standby(t testing.TB) *Postgres {
	t.Helper()
	return start(t, func() (*Postgres, error) { return p.launchStandby() })
}

func (p *Postgres) launchStandby() (*Postgres, error) {
	sb := &Postgres{Host: "127.0.0.1", BinDir: p.BinDir, Superuser: p.Superuser, cred: p.cred}
	var err error
	if sb.Dir, err = os.MkdirTemp("", "flightdeck-pg-standby-"); err != nil {
		return nil, err
	}
	sb.dataDir = filepath.Join(sb.Dir, "data")
	sb.sockDir = filepath.Join(sb.Dir, "sock")
	sb.logPath = filepath.Join(sb.Dir, "server.log")
	if err := os.Mkdir(sb.sockDir, 0o700); err != nil {
		sb.removeDir()
		return nil, err
	}
	if sb.cred != nil {
		if err := chownTree(sb.Dir, sb.cred); err != nil {
			sb.removeDir()
			return nil, err
		}
	}
	// -c fast: the default spread checkpoint makes a test wait minutes.
	if out, err := sb.command("pg_basebackup", "-D", sb.dataDir, "-h", p.Host, "-p", strconv.Itoa(p.Port),
		"-U", p.Superuser, "-R", "-X", "stream", "-c", "fast", "--no-sync").CombinedOutput(); err != nil {
		sb.removeDir()
		return nil, fmt.Errorf("pg_basebackup: %v\n%s", err, out)
	}
	auto := filepath.Join(sb.dataDir, "postgresql.auto.conf")
	base, err := os.ReadFile(auto)
	if err != nil {
		sb.removeDir()
		return nil, err
	}
	var lastErr error
	for try := 0; try < 3; try++ {
		if sb.Port, err = freePort(); err != nil {
			sb.removeDir()
			return nil, err
		}
		// Later lines win: the primary's port and socket are in base.
		conf := string(base) + fmt.Sprintf("port = %d\nunix_socket_directories = '%s'\nhot_standby_feedback = off\n", sb.Port, sb.sockDir)
		if err := sb.writeFile(auto, conf); err != nil {
			sb.removeDir()
			return nil, err
		}
		if lastErr = sb.start(); lastErr == nil {
			return sb, nil
		}
	}
	sb.removeDir()
	return nil, lastErr
}

// start runs the postmaster in the foreground, under the package's process
// manager, and waits until it accepts connections.
func (p *Postgres) start() error {
	proc, err := Launch(p.logPath, p.command("postgres", "-D", p.dataDir))
	if err != nil {
		return err
	}
	if err := proc.WaitReady(60*time.Second, p.ping); err != nil {
		proc.Stop(syscall.SIGQUIT, 10*time.Second)
		return fmt.Errorf("postgres: %v\n%s", err, proc.LogTail(3000))
	}
	p.mu.Lock()
	p.proc = proc
	p.mu.Unlock()
	return nil
}

// ping connects once as the superuser.
func (p *Postgres) ping() error {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	conn, err := pgx.Connect(ctx, p.SuperuserDSN())
	if err != nil {
		return err
	}
	return conn.Close(ctx)
}

// Stop stops the server the hard way (-m immediate), like a crash: clients
// see their connections drop. The data directory stays for Restart.
func (p *Postgres) Stop(t testing.TB) {
	t.Helper()
	p.stop()
}

func (p *Postgres) stop() {
	p.mu.Lock()
	defer p.mu.Unlock()
	// SIGQUIT is postgres's immediate shutdown: no checkpoint, clients cut.
	p.proc.Stop(syscall.SIGQUIT, 10*time.Second)
	p.proc = nil
}

// Restart starts a stopped server again on the same port.
func (p *Postgres) Restart(t testing.TB) {
	t.Helper()
	if err := p.start(); err != nil {
		t.Fatal(err)
	}
}

// Close stops the server and removes everything it wrote.
func (p *Postgres) Close() {
	p.stop()
	p.removeDir()
}

// Log returns the tail of the server log, for failure messages.
func (p *Postgres) Log() string {
	b, _ := os.ReadFile(p.logPath)
	return string(tail(b, 4000))
}

func (p *Postgres) removeDir() {
	if p.Dir != "" {
		_ = os.RemoveAll(p.Dir)
	}
}

// command is a server binary of BinDir, run as the postgres system user
// when we are root, in a clean environment: the test's PG* variables must
// not leak into initdb or the server.
func (p *Postgres) command(name string, args ...string) *exec.Cmd {
	cmd := exec.Command(filepath.Join(p.BinDir, name), args...)
	cmd.Dir = p.Dir
	cmd.Env = []string{"PATH=/usr/sbin:/usr/bin:/sbin:/bin", "LC_ALL=C", "HOME=" + p.Dir}
	if p.cred != nil {
		cmd.SysProcAttr = &syscall.SysProcAttr{Credential: p.cred}
	}
	return cmd
}

func (p *Postgres) writeFile(path, content string) error {
	if err := os.WriteFile(path, []byte(content), 0o600); err != nil {
		return err
	}
	if p.cred != nil {
		return chownTree(path, p.cred)
	}
	return nil
}

// credentialOf is the uid and gid of a system user.
func credentialOf(name string) (*syscall.Credential, error) {
	u, err := user.Lookup(name)
	if err != nil {
		return nil, err
	}
	uid, _ := strconv.Atoi(u.Uid)
	gid, _ := strconv.Atoi(u.Gid)
	return &syscall.Credential{Uid: uint32(uid), Gid: uint32(gid)}, nil
}

func chownTree(root string, c *syscall.Credential) error {
	return filepath.Walk(root, func(path string, _ os.FileInfo, err error) error {
		if err != nil {
			return err
		}
		return os.Lchown(path, int(c.Uid), int(c.Gid))
	})
}
