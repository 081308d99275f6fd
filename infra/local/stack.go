package local

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"text/tabwriter"
	"time"
)

// stopGrace is how long Down waits after SIGTERM before it sends SIGKILL.
const stopGrace = 10 * time.Second

// logTailLines is how many log lines an error report quotes.
const logTailLines = 25

// Install makes the stack runnable: it runs `npm ci --ignore-scripts` in
// infra/local when node_modules is missing or package-lock.json is newer than
// node_modules/.package-lock.json, checks the installed files, and checks that
// `java -version` works. Without Java it installs openjdk-17-jre-headless with
// apt-get when running as root, and fails with instructions otherwise. It is
// idempotent and fast once installed.
func Install(ctx context.Context, cfg Config, out io.Writer) error {
	if err := cfg.Validate(); err != nil {
		return err
	}
	// Stacks with different state folders share node_modules: one npm ci at
	// a time.
	unlock, err := lockFile(ctx, cfg.installLockFile(), "another install in "+cfg.Dir)
	if err != nil {
		return err
	}
	defer unlock()
	if reason := npmInstallNeeded(cfg); reason != "" {
		if err := npmCI(ctx, cfg, out, reason); err != nil {
			return err
		}
	}
	if err := checkInstalled(cfg); err != nil {
		return err
	}
	return ensureJava(ctx, out)
}

// npmInstallNeeded returns why `npm ci` must run, or "" when node_modules is
// current.
func npmInstallNeeded(cfg Config) string {
	hidden, err := os.Stat(cfg.nodeModules() + "/.package-lock.json")
	if err != nil {
		return "node_modules is missing"
	}
	lock, err := os.Stat(cfg.Dir + "/package-lock.json")
	if err != nil {
		// No lockfile to compare against; checkInstalled will say what is wrong.
		return ""
	}
	if lock.ModTime().After(hidden.ModTime()) {
		return "package-lock.json is newer than node_modules"
	}
	return ""
}

func npmCI(ctx context.Context, cfg Config, out io.Writer, reason string) error {
	npm, err := exec.LookPath("npm")
	if err != nil {
		return fmt.Errorf("npm is not on PATH; install Node.js 20 or later with npm (e.g. apt-get install -y nodejs npm), then run this again: %w", err)
	}
	fmt.Fprintf(out, "install:    %s; running npm ci in %s\n", reason, cfg.Dir)
	start := time.Now()
	// --ignore-scripts: no package needs its install script (leveldown ships
	// N-API prebuilds), and none may download anything.
	cmd := exec.CommandContext(ctx, npm, "ci", "--ignore-scripts", "--no-audit", "--no-fund")
	cmd.Dir = cfg.Dir
	cmd.Stdout = out
	cmd.Stderr = out
	if err := cmd.Run(); err != nil {
		return fmt.Errorf("npm ci in %s: %w", cfg.Dir, err)
	}
	fmt.Fprintf(out, "install:    npm ci done in %s\n", time.Since(start).Round(100*time.Millisecond))
	return nil
}

// checkInstalled verifies the files the stack runs from.
func checkInstalled(cfg Config) error {
	var missing []string
	for _, p := range []string{
		cfg.dynamoDBJar(), cfg.dynamoDBLib(), NodePath(cfg), cfg.kinesaliteScript(),
		cfg.nodeModules() + "/kinesalite/index.js", cfg.localSFNCLI(), cfg.aslValidatorCLI(),
	} {
		if _, err := os.Stat(p); err != nil {
			missing = append(missing, p)
		}
	}
	if len(missing) > 0 {
		return fmt.Errorf("local stack files are missing (delete %s and run the install again):\n  %s",
			cfg.nodeModules(), strings.Join(missing, "\n  "))
	}
	return nil
}

// ensureJava checks `java -version`, installing a JRE with apt-get when java
// is missing and we are root.
func ensureJava(ctx context.Context, out io.Writer) error {
	if _, err := javaVersion(ctx); err == nil {
		return nil
	} else if !errors.Is(err, exec.ErrNotFound) {
		return fmt.Errorf("java -version failed (DynamoDB Local needs a working Java 11+): %w", err)
	}
	const hint = "DynamoDB Local needs Java 11 or later: install it (e.g. sudo apt-get install -y openjdk-17-jre-headless) and run this again"
	if os.Geteuid() != 0 {
		return errors.New("java is not on PATH. " + hint)
	}
	aptGet, err := exec.LookPath("apt-get")
	if err != nil {
		return errors.New("java is not on PATH and apt-get is not available. " + hint)
	}
	fmt.Fprintln(out, "install:    java is missing; installing openjdk-17-jre-headless with apt-get")
	for _, args := range [][]string{{"update"}, {"install", "-y", "--no-install-recommends", "openjdk-17-jre-headless"}} {
		cmd := exec.CommandContext(ctx, aptGet, args...)
		cmd.Env = append(os.Environ(), "DEBIAN_FRONTEND=noninteractive")
		cmd.Stdout = out
		cmd.Stderr = out
		if err := cmd.Run(); err != nil {
			return fmt.Errorf("apt-get %s: %w. %s", strings.Join(args, " "), err, hint)
		}
	}
	v, err := javaVersion(ctx)
	if err != nil {
		return fmt.Errorf("java still does not work after apt-get install: %w", err)
	}
	fmt.Fprintf(out, "install:    %s\n", v)
	return nil
}

// javaVersion runs `java -version` and returns its first line.
func javaVersion(ctx context.Context) (string, error) {
	java, err := exec.LookPath("java")
	if err != nil {
		return "", err
	}
	b, err := exec.CommandContext(ctx, java, "-version").CombinedOutput()
	if err != nil {
		return "", fmt.Errorf("%w: %s", err, strings.TrimSpace(string(b)))
	}
	first, _, _ := strings.Cut(strings.TrimSpace(string(b)), "\n")
	return first, nil
}

// Up installs what is missing (see [Install]) and starts every service that
// is not already healthy, in this order: DynamoDB Local, kinesalite, the SQS
// emulator, the Lambda host (which it skips, saying so, while
// ./infra/local/cmd/lambdahost has no Go files), the Step Functions server,
// the outbox (fake SES v2, SMS and Connect) and the fake Bedrock Runtime.
// Services run detached in their own session, log to <state>/logs/<name>.log
// and record their PID in <state>/pids/<name>.pid. Up waits until each is
// healthy; on failure it stops what it just started and returns an error
// naming the endpoint and quoting the end of the service's log. Once the
// Step Functions server is healthy, Up deploys the state machines to it
// (see [DeployStateMachines]).
//
// Up is safe to run again: healthy services started by an earlier Up are left
// alone, stale PID files are removed, and a port held by something that is
// not the expected service is reported as an error.
func Up(ctx context.Context, cfg Config, out io.Writer) error {
	if err := Install(ctx, cfg, out); err != nil {
		return err
	}
	for _, d := range []string{cfg.StateDir, cfg.logsDir(), cfg.pidsDir(), cfg.binDir()} {
		if err := os.MkdirAll(d, 0o755); err != nil {
			return err
		}
	}
	unlock, err := lockState(ctx, cfg)
	if err != nil {
		return err
	}
	defer unlock()

	var errs []error
	var waits []*pending
	for _, s := range services() {
		p, err := ensureStarted(ctx, cfg, s, out)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		if p != nil {
			waits = append(waits, p)
		}
	}
	// Wait for everything we started at once: the JVM warms up while the
	// others start.
	results := make([]error, len(waits))
	var wg sync.WaitGroup
	for i, p := range waits {
		wg.Add(1)
		go func() {
			defer wg.Done()
			results[i] = waitHealthy(ctx, cfg, p)
		}()
	}
	wg.Wait()
	for i, p := range waits {
		if results[i] != nil {
			errs = append(errs, results[i])
			continue
		}
		how := "started"
		if p.proc == nil {
			how = "was starting"
		}
		fmt.Fprintf(out, "%-12s %s, healthy at %s (pid %d, %s)\n", p.svc.name+":", how, p.svc.url(cfg),
			p.pid, p.took.Round(10*time.Millisecond))
	}
	// A Step Functions server that did not come up is already among errs.
	if sfnSkip(cfg) == "" && sfnHealthy(ctx, cfg) == nil {
		if _, err := DeployStateMachines(ctx, cfg, out); err != nil {
			errs = append(errs, err)
		}
	}
	if len(errs) > 0 {
		return fmt.Errorf("local stack is not fully up (see %s):\n%w", cfg.logsDir(), errors.Join(errs...))
	}
	return nil
}

// pending is a service process Up waits on.
type pending struct {
	svc   service
	pid   int
	proc  *started // nil when the process was started by an earlier Up
	since time.Time
	took  time.Duration // from since to healthy
}

// ensureStarted leaves a healthy service alone and starts one that is not
// running. It returns a pending wait for a process that is not healthy yet.
func ensureStarted(ctx context.Context, cfg Config, s service, out io.Writer) (*pending, error) {
	label := s.name + ":"
	if reason := s.skip(cfg); reason != "" {
		fmt.Fprintf(out, "%-12s skipped: %s\n", label, reason)
		return nil, nil
	}
	pidFile := cfg.pidFile(s.name)
	pid, err := readPID(pidFile)
	switch {
	case err == nil && processAlive(pid) && processMatches(pid, s.markers(cfg)...):
		if s.healthy(ctx, cfg) == nil {
			fmt.Fprintf(out, "%-12s already running, healthy at %s (pid %d)\n", label, s.url(cfg), pid)
			return nil, nil
		}
		// Ours but not answering yet: probably still starting up.
		return &pending{svc: s, pid: pid, since: time.Now()}, nil
	case err == nil:
		fmt.Fprintf(out, "%-12s removing stale PID file %s (process %d is gone or is not ours)\n", label, pidFile, pid)
		if err := removePID(pidFile); err != nil {
			return nil, err
		}
	case !errors.Is(err, fs.ErrNotExist):
		fmt.Fprintf(out, "%-12s removing unreadable PID file: %v\n", label, err)
		if err := removePID(pidFile); err != nil {
			return nil, err
		}
	}

	port := s.port(cfg)
	if portInUse(port) {
		if s.healthy(ctx, cfg) == nil {
			fmt.Fprintf(out, "%-12s %s is already served at %s by a process this stack did not start; leaving it alone (Down will not stop it)\n",
				label, s.title, s.url(cfg))
			return nil, nil
		}
		return nil, fmt.Errorf("%s: port %d (%s:%d) is already in use by a process that is not a healthy %s; stop that process or set %s to a free port",
			s.name, port, Host, port, s.title, s.portEnv)
	}

	cmd, err := s.command(ctx, cfg, out)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", s.name, err)
	}
	proc, err := startDetached(cmd, cfg.logFile(s.name))
	if err != nil {
		return nil, fmt.Errorf("%s: start %s: %w", s.name, cmd.Path, err)
	}
	if err := writePID(pidFile, proc.pid); err != nil {
		_ = stopGroup(ctx, proc.pid, stopGrace)
		return nil, fmt.Errorf("%s: %w", s.name, err)
	}
	fmt.Fprintf(out, "%-12s starting %s (pid %d, log %s)\n", label, s.title, proc.pid, cfg.logFile(s.name))
	return &pending{svc: s, pid: proc.pid, proc: proc, since: time.Now()}, nil
}

// waitHealthy polls the service until it is healthy, its process exits, or
// its start timeout passes. A process started by this Up that does not become
// healthy is stopped and its PID file removed.
func waitHealthy(ctx context.Context, cfg Config, p *pending) error {
	s := p.svc
	deadline := time.Now().Add(s.startTimeout)
	var lastErr error
	exited := false
	for {
		if lastErr = s.healthy(ctx, cfg); lastErr == nil {
			p.took = time.Since(p.since)
			return nil
		}
		if p.proc != nil {
			select {
			case <-p.proc.exited:
				exited = true
			default:
			}
		} else if !processAlive(p.pid) {
			exited = true
		}
		if exited || time.Now().After(deadline) || ctx.Err() != nil {
			break
		}
		select {
		case <-ctx.Done():
		case <-time.After(100 * time.Millisecond):
		}
	}

	var what string
	switch {
	case exited:
		what = fmt.Sprintf("process %d exited before %s answered", p.pid, s.url(cfg))
	case ctx.Err() != nil:
		what = fmt.Sprintf("interrupted while waiting for %s: %v", s.url(cfg), ctx.Err())
	default:
		what = fmt.Sprintf("not healthy at %s after %s", s.url(cfg), s.startTimeout)
	}
	if p.proc != nil && !exited {
		_ = stopGroup(context.WithoutCancel(ctx), p.pid, stopGrace)
	}
	if p.proc != nil || exited {
		_ = removePID(cfg.pidFile(s.name))
	}
	var offset int64
	if p.proc != nil {
		offset = p.proc.logOffset
	}
	return fmt.Errorf("%s (%s): %s (last probe: %v)\nlast lines of %s:\n%s",
		s.name, s.title, what, lastErr, cfg.logFile(s.name), indent(tailFile(cfg.logFile(s.name), offset, logTailLines)))
}

func indent(s string) string {
	return "    " + strings.ReplaceAll(s, "\n", "\n    ")
}

// Down stops every service that has a PID file: SIGTERM to its process group,
// SIGKILL after about 10 s, then the PID file is removed. A PID file naming a
// process that is gone (or that is not ours any more) is just removed. Down is
// idempotent, and never stops a service this stack did not start.
func Down(ctx context.Context, cfg Config, out io.Writer) error {
	if err := cfg.Validate(); err != nil {
		return err
	}
	if _, err := os.Stat(cfg.pidsDir()); errors.Is(err, fs.ErrNotExist) {
		fmt.Fprintf(out, "down:       nothing to stop (no %s)\n", cfg.pidsDir())
		return nil
	}
	unlock, err := lockState(ctx, cfg)
	if err != nil {
		return err
	}
	defer unlock()

	svcs := services()
	var errs []error
	for i := len(svcs) - 1; i >= 0; i-- {
		s := svcs[i]
		label := s.name + ":"
		pidFile := cfg.pidFile(s.name)
		pid, err := readPID(pidFile)
		if errors.Is(err, fs.ErrNotExist) {
			fmt.Fprintf(out, "%-12s not running\n", label)
			continue
		}
		if err != nil || !processAlive(pid) || !processMatches(pid, s.markers(cfg)...) {
			fmt.Fprintf(out, "%-12s not running; removed stale PID file\n", label)
			if err := removePID(pidFile); err != nil {
				errs = append(errs, err)
			}
			continue
		}
		start := time.Now()
		if err := stopGroup(ctx, pid, stopGrace); err != nil {
			errs = append(errs, fmt.Errorf("%s: stop pid %d: %w", s.name, pid, err))
			continue
		}
		if err := removePID(pidFile); err != nil {
			errs = append(errs, err)
		}
		fmt.Fprintf(out, "%-12s stopped (pid %d, %s)\n", label, pid, time.Since(start).Round(10*time.Millisecond))
	}
	return errors.Join(errs...)
}

// ServiceStatus is one row of [Status].
type ServiceStatus struct {
	Name     string // one of the Service* constants
	PID      int    // 0 when no live process of ours is recorded
	Endpoint string
	Healthy  bool
	Skipped  string // non-empty: why the service is not run at all
}

// Inspect probes every service once, without changing anything.
func Inspect(ctx context.Context, cfg Config) []ServiceStatus {
	var rows []ServiceStatus
	for _, s := range services() {
		st := ServiceStatus{Name: s.name, Endpoint: s.url(cfg), Skipped: s.skip(cfg)}
		if pid, err := readPID(cfg.pidFile(s.name)); err == nil && processAlive(pid) && processMatches(pid, s.markers(cfg)...) {
			st.PID = pid
		}
		if st.Skipped == "" {
			st.Healthy = s.healthy(ctx, cfg) == nil
		}
		rows = append(rows, st)
	}
	return rows
}

// Status prints a table of service, pid, endpoint and health, and returns an
// error when a service (other than a skipped one) is not healthy.
func Status(ctx context.Context, cfg Config, out io.Writer) error {
	if err := cfg.Validate(); err != nil {
		return err
	}
	rows := Inspect(ctx, cfg)
	tw := tabwriter.NewWriter(out, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "SERVICE\tPID\tENDPOINT\tHEALTHY")
	var down []string
	for _, r := range rows {
		pid := "-"
		if r.PID != 0 {
			pid = strconv.Itoa(r.PID)
		}
		healthy := "no"
		switch {
		case r.Skipped != "":
			healthy = "skipped"
		case r.Healthy:
			healthy = "yes"
		default:
			down = append(down, r.Name)
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\n", r.Name, pid, r.Endpoint, healthy)
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	if len(down) > 0 {
		return fmt.Errorf("local stack: not healthy: %s (logs in %s)", strings.Join(down, ", "), cfg.logsDir())
	}
	return nil
}

// lockState takes an exclusive lock on <state>/stack.lock so that two Up or
// Down runs on one state folder do not race.
func lockState(ctx context.Context, cfg Config) (func(), error) {
	if err := os.MkdirAll(cfg.StateDir, 0o755); err != nil {
		return nil, err
	}
	return lockFile(ctx, cfg.lockFile(), "another up/down on "+cfg.StateDir)
}

// lockFile takes an exclusive flock on path (creating it), waiting until ctx
// is done. what names the holder in the error.
func lockFile(ctx context.Context, path, what string) (func(), error) {
	f, err := os.OpenFile(path, os.O_CREATE|os.O_RDWR, 0o644)
	if err != nil {
		return nil, err
	}
	for {
		err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB)
		if err == nil {
			return func() {
				_ = syscall.Flock(int(f.Fd()), syscall.LOCK_UN)
				f.Close()
			}, nil
		}
		if !errors.Is(err, syscall.EWOULDBLOCK) {
			f.Close()
			return nil, fmt.Errorf("lock %s: %w", path, err)
		}
		select {
		case <-ctx.Done():
			f.Close()
			return nil, fmt.Errorf("waiting for %s (lock %s): %w", what, path, ctx.Err())
		case <-time.After(100 * time.Millisecond):
		}
	}
}
