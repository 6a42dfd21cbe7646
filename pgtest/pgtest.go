// Package pgtest runs a PostgreSQL server of its own for a package's tests:
// Debian's postgresql binaries, a data directory in a temporary directory,
// a unix socket there (no port to clash with), and a fresh database for
// each test. One server serves a whole test package: it starts at the
// first test that asks for a database and stops when TestMain's Run
// returns.
//
// When run as root (as CI is), the server runs as the unprivileged user
// nobody, since PostgreSQL refuses to run as root. Without PostgreSQL
// installed, tests that need it are skipped, unless CI=true: then they
// fail, so that CI never passes without them.
package pgtest

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/url"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
)

// Run runs the package's tests (m.Run) and then stops the server, if one
// was started. Call it from TestMain: os.Exit(pgtest.Run(m)).
func Run(m *testing.M) int {
	code := m.Run()
	if err := stop(); err != nil {
		fmt.Fprintln(os.Stderr, "pgtest:", err)
		if code == 0 {
			code = 1
		}
	}
	return code
}

// server is the package's one PostgreSQL, started on first use.
var (
	once    sync.Once
	srv     *server
	srvErr  error
	counter atomic.Int64
)

type server struct {
	dir    string // removed at stop
	socket string // the directory holding the unix socket
	cmd    *exec.Cmd
	exited chan struct{}
	log    *os.File
}

// superuser is the role initdb makes; connections over the socket are
// trusted (the socket lives in a directory only the test's user reads).
const superuser = "budgetgate"

// DSN returns the URL of a fresh, empty database on the package's server,
// dropped when the test ends. It skips the test when PostgreSQL is not
// installed (fails it under CI=true).
func DSN(t testing.TB) string {
	t.Helper()
	s, err := get()
	if err != nil {
		if skips(err, os.Getenv("CI")) {
			t.Skipf("pgtest: %v", err)
		}
		t.Fatalf("pgtest: %v", err)
	}
	name := fmt.Sprintf("test_%d_%d", os.Getpid(), counter.Add(1))
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	if err := s.admin(ctx, "CREATE DATABASE "+name+" TEMPLATE template0 ENCODING 'UTF8' LC_COLLATE 'C' LC_CTYPE 'C'"); err != nil {
		t.Fatalf("pgtest: creating database %s: %v", name, err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		defer cancel()
		if err := s.admin(ctx, "DROP DATABASE IF EXISTS "+name+" WITH (FORCE)"); err != nil {
			t.Errorf("pgtest: dropping database %s: %v", name, err)
		}
	})
	return s.url(name)
}

// url is the connection URL of database name over the server's socket.
func (s *server) url(name string) string {
	q := url.Values{"host": {s.socket}, "sslmode": {"disable"}}
	return (&url.URL{Scheme: "postgres", User: url.User(superuser), Path: "/" + name, RawQuery: q.Encode()}).String()
}

// admin runs a statement on the maintenance database.
func (s *server) admin(ctx context.Context, stmt string) error {
	conn, err := pgx.Connect(ctx, s.url("postgres"))
	if err != nil {
		return err
	}
	defer conn.Close(context.Background())
	_, err = conn.Exec(ctx, stmt)
	return err
}

// skips says whether a test that cannot have its server is skipped: only
// when PostgreSQL is not installed, and never in CI, which installs it.
func skips(err error, ci string) bool {
	return errors.Is(err, errNotInstalled) && ci != "true"
}

var errNotInstalled = errors.New("PostgreSQL is not installed (Debian's postgresql package: initdb and postgres under /usr/lib/postgresql/*/bin)")

func get() (*server, error) {
	once.Do(func() { srv, srvErr = start() })
	return srv, srvErr
}

func stop() error {
	if srv == nil {
		return nil
	}
	defer os.RemoveAll(srv.dir)
	defer srv.log.Close()
	// SIGINT is PostgreSQL's fast shutdown: it ends sessions and stops.
	srv.cmd.Process.Signal(os.Interrupt)
	select {
	case <-srv.exited:
		return nil
	case <-time.After(30 * time.Second):
		srv.cmd.Process.Kill()
		<-srv.exited
		return errors.New("PostgreSQL did not stop within 30s; killed")
	}
}

// debianBins is where Debian's postgresql packages put each version's
// programs.
var debianBins = "/usr/lib/postgresql/*/bin"

// binDir finds the directory of initdb and postgres: on PATH, else the
// newest of Debian's versioned directories.
func binDir() (string, error) {
	if p, err := exec.LookPath("initdb"); err == nil {
		if real, err := filepath.EvalSymlinks(p); err == nil {
			p = real
		}
		if _, err := os.Stat(filepath.Join(filepath.Dir(p), "postgres")); err == nil {
			return filepath.Dir(p), nil
		}
	}
	dirs, _ := filepath.Glob(debianBins)
	sort.Slice(dirs, func(i, j int) bool { return version(dirs[i]) > version(dirs[j]) })
	for _, d := range dirs {
		if _, err := os.Stat(filepath.Join(d, "initdb")); err == nil {
			return d, nil
		}
	}
	return "", errNotInstalled
}

// version reads the major version out of /usr/lib/postgresql/NN/bin.
func version(dir string) int {
	n, _ := strconv.Atoi(filepath.Base(filepath.Dir(dir)))
	return n
}

// runAs is the credential the server runs with: nobody when the tests run
// as root, else nil (the tests' own user).
func runAs() (*syscall.Credential, error) {
	if os.Geteuid() != 0 {
		return nil, nil
	}
	u, err := user.Lookup("nobody")
	if err != nil {
		return nil, fmt.Errorf("running as root, and there is no user nobody to run PostgreSQL as: %w", err)
	}
	uid, _ := strconv.Atoi(u.Uid)
	gid, _ := strconv.Atoi(u.Gid)
	return &syscall.Credential{Uid: uint32(uid), Gid: uint32(gid)}, nil
}

func start() (*server, error) {
	bin, err := binDir()
	if err != nil {
		return nil, err
	}
	cred, err := runAs()
	if err != nil {
		return nil, err
	}
	dir, err := os.MkdirTemp("", "pgtest-")
	if err != nil {
		return nil, err
	}
	s := &server{dir: dir, socket: filepath.Join(dir, "sock"), exited: make(chan struct{})}
	if err := s.boot(bin, cred); err != nil {
		os.RemoveAll(dir)
		return nil, err
	}
	return s, nil
}

// boot makes the cluster and starts the server, then waits for it to
// accept connections.
func (s *server) boot(bin string, cred *syscall.Credential) error {
	data := filepath.Join(s.dir, "data")
	if err := os.Mkdir(s.socket, 0o700); err != nil {
		return err
	}
	if cred != nil {
		for _, d := range []string{s.dir, s.socket} {
			if err := os.Chown(d, int(cred.Uid), int(cred.Gid)); err != nil {
				return fmt.Errorf("handing %s to the unprivileged user: %w", d, err)
			}
		}
		// The parent of the data directory must be traversable by nobody.
		if err := os.Chmod(s.dir, 0o711); err != nil {
			return err
		}
	}
	initdb := exec.Command(filepath.Join(bin, "initdb"), "-D", data, "-U", superuser, "--auth=trust",
		"--encoding=UTF8", "--locale=C", "--no-sync")
	initdb.SysProcAttr = &syscall.SysProcAttr{Credential: cred}
	initdb.Dir = s.dir
	if out, err := initdb.CombinedOutput(); err != nil {
		return fmt.Errorf("initdb: %v\n%s", err, out)
	}
	log, err := os.Create(filepath.Join(s.dir, "postgres.log"))
	if err != nil {
		return err
	}
	s.log = log
	// Durability is not what these tests check: fsync off keeps them fast.
	s.cmd = exec.Command(filepath.Join(bin, "postgres"), "-D", data, "-k", s.socket,
		"-c", "listen_addresses=", "-c", "fsync=off", "-c", "synchronous_commit=off", "-c", "full_page_writes=off",
		"-c", "max_connections=200", "-c", "shared_buffers=32MB")
	s.cmd.SysProcAttr = &syscall.SysProcAttr{Credential: cred, Setpgid: true, Pdeathsig: syscall.SIGKILL}
	s.cmd.Dir = s.dir
	s.cmd.Stdout, s.cmd.Stderr = log, log
	if err := s.cmd.Start(); err != nil {
		return fmt.Errorf("starting postgres: %w", err)
	}
	go func() { s.cmd.Wait(); close(s.exited) }()
	deadline := time.Now().Add(60 * time.Second)
	for {
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		err := s.admin(ctx, "SELECT 1")
		cancel()
		if err == nil {
			return nil
		}
		select {
		case <-s.exited:
			return fmt.Errorf("postgres exited at start: %s", tail(log.Name()))
		default:
		}
		if time.Now().After(deadline) {
			s.cmd.Process.Kill()
			<-s.exited
			return fmt.Errorf("postgres did not accept connections within 60s (%v): %s", err, tail(log.Name()))
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// tail is the end of the server's log, for an error message.
func tail(path string) string {
	f, err := os.Open(path)
	if err != nil {
		return ""
	}
	defer f.Close()
	b, _ := io.ReadAll(f)
	if len(b) > 2000 {
		b = b[len(b)-2000:]
	}
	return strings.TrimSpace(string(b))
}
