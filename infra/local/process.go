package local

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/recoup-dev/recoup/shared/atomicfile"
)

// readPID reads a PID file. It returns fs.ErrNotExist (wrapped) when there is
// no file, and an error naming the file when its content is not a PID.
func readPID(path string) (int, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return 0, err
	}
	s := strings.TrimSpace(string(b))
	pid, err := strconv.Atoi(s)
	if err != nil || pid <= 0 {
		return 0, fmt.Errorf("PID file %s: %q is not a process id", path, s)
	}
	return pid, nil
}

// writePID writes pid to path atomically (temp file + rename).
func writePID(path string, pid int) error {
	return atomicfile.Write(path, []byte(strconv.Itoa(pid)+"\n"))
}

// removePID removes a PID file; a missing file is not an error.
func removePID(path string) error {
	if err := os.Remove(path); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return err
	}
	return nil
}

// processAlive reports whether pid names a running (not zombie) process.
func processAlive(pid int) bool {
	if pid <= 0 {
		return false
	}
	if err := syscall.Kill(pid, 0); err != nil && !errors.Is(err, syscall.EPERM) {
		return false
	}
	// A zombie still answers kill(pid, 0); on Linux /proc tells them apart.
	stat, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return !errors.Is(err, fs.ErrNotExist) || !procAvailable()
	}
	if state, _, ok := parseStat(stat); ok {
		return state != 'Z' && state != 'X'
	}
	return true
}

func procAvailable() bool {
	_, err := os.Stat("/proc/self/stat")
	return err == nil
}

// processCmdline returns the command line of pid with arguments separated by
// spaces, and ok=false when it cannot be read (no /proc, or no process).
func processCmdline(pid int) (string, bool) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/cmdline", pid))
	if err != nil {
		return "", false
	}
	return strings.TrimSpace(string(bytes.ReplaceAll(b, []byte{0}, []byte{' '}))), true
}

// processMatches reports whether the running process pid looks like the one
// we started: its command line contains every marker. Where /proc is not
// available the check cannot be made and it answers true.
func processMatches(pid int, markers ...string) bool {
	cmdline, ok := processCmdline(pid)
	// Right after exec the kernel briefly shows an empty command line (the
	// new argument pages are not set up yet); give it a moment.
	for i := 0; ok && cmdline == "" && i < 20 && processAlive(pid); i++ {
		time.Sleep(5 * time.Millisecond)
		cmdline, ok = processCmdline(pid)
	}
	if !ok {
		return !procAvailable()
	}
	for _, m := range markers {
		if !strings.Contains(cmdline, m) {
			return false
		}
	}
	return true
}

// started is a process launched by startDetached.
type started struct {
	pid int
	// exited is closed when the process ends (it is reaped by a goroutine so
	// that a long-lived caller such as a test does not collect zombies).
	exited <-chan struct{}
	// logOffset is the size of the log file before the process started, so
	// that error reports show only this run's output.
	logOffset int64
}

// startDetached starts cmd in a new session (so it has its own process group,
// no controlling terminal, and outlives the caller), with stdin from
// /dev/null and stdout/stderr appended to logPath.
func startDetached(cmd *exec.Cmd, logPath string) (*started, error) {
	if err := os.MkdirAll(filepath.Dir(logPath), 0o755); err != nil {
		return nil, err
	}
	f, err := os.OpenFile(logPath, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	var offset int64
	if fi, err := f.Stat(); err == nil {
		offset = fi.Size()
	}
	fmt.Fprintf(f, "\n==== %s starting: %s\n", time.Now().Format(time.RFC3339), strings.Join(cmd.Args, " "))
	cmd.Stdin = nil
	cmd.Stdout = f
	cmd.Stderr = f
	cmd.SysProcAttr = &syscall.SysProcAttr{Setsid: true}
	if err := cmd.Start(); err != nil {
		return nil, err
	}
	exited := make(chan struct{})
	go func() {
		_ = cmd.Wait()
		close(exited)
	}()
	return &started{pid: cmd.Process.Pid, exited: exited, logOffset: offset}, nil
}

// stopGroup sends SIGTERM to the process group led by pid (falling back to
// the process itself), waits up to grace for the leader to exit, then sends
// SIGKILL to the group. It returns nil once the leader is gone.
func stopGroup(ctx context.Context, pid int, grace time.Duration) error {
	signalGroup(pid, syscall.SIGTERM)
	if waitGone(ctx, pid, grace) {
		reapGroup(ctx, pid)
		return nil
	}
	signalGroup(pid, syscall.SIGKILL)
	if waitGone(ctx, pid, 5*time.Second) {
		reapGroup(ctx, pid)
		return nil
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	return fmt.Errorf("process %d is still running after SIGKILL", pid)
}

func signalGroup(pid int, sig syscall.Signal) {
	if err := syscall.Kill(-pid, sig); errors.Is(err, syscall.ESRCH) {
		_ = syscall.Kill(pid, sig)
	}
}

// reapGroup gives the rest of the group (children of the service) a moment to
// follow the leader, then kills whatever is left of it.
func reapGroup(ctx context.Context, pgid int) {
	deadline := time.Now().Add(2 * time.Second)
	for time.Now().Before(deadline) && ctx.Err() == nil {
		if !groupAlive(pgid) {
			return
		}
		time.Sleep(50 * time.Millisecond)
	}
	_ = syscall.Kill(-pgid, syscall.SIGKILL)
}

// groupAlive reports whether process group pgid has a member that is not a
// zombie. (kill(-pgid, 0) alone also counts zombies that wait for init to
// reap them, which can take a second or more in a container.)
func groupAlive(pgid int) bool {
	if err := syscall.Kill(-pgid, 0); err != nil && !errors.Is(err, syscall.EPERM) {
		return false
	}
	entries, err := os.ReadDir("/proc")
	if err != nil {
		return true
	}
	for _, e := range entries {
		if _, err := strconv.Atoi(e.Name()); err != nil {
			continue
		}
		stat, err := os.ReadFile("/proc/" + e.Name() + "/stat")
		if err != nil {
			continue
		}
		state, pgrp, ok := parseStat(stat)
		if ok && pgrp == pgid && state != 'Z' && state != 'X' {
			return true
		}
	}
	return false
}

// parseStat extracts the state and process group from /proc/<pid>/stat
// ("pid (comm) S ppid pgrp ...").
func parseStat(stat []byte) (state byte, pgrp int, ok bool) {
	i := bytes.LastIndexByte(stat, ')')
	if i < 0 {
		return 0, 0, false
	}
	f := strings.Fields(string(stat[i+1:]))
	if len(f) < 3 || len(f[0]) != 1 {
		return 0, 0, false
	}
	pgrp, err := strconv.Atoi(f[2])
	if err != nil {
		return 0, 0, false
	}
	return f[0][0], pgrp, true
}

// waitGone polls until pid is no longer alive or d has passed.
func waitGone(ctx context.Context, pid int, d time.Duration) bool {
	deadline := time.Now().Add(d)
	for {
		if !processAlive(pid) {
			return true
		}
		if time.Now().After(deadline) || ctx.Err() != nil {
			return false
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// tailFile returns the last n lines of path from byte offset from on.
func tailFile(path string, from int64, n int) string {
	f, err := os.Open(path)
	if err != nil {
		return fmt.Sprintf("(cannot read %s: %v)", path, err)
	}
	defer f.Close()
	const maxBytes = 64 << 10
	if fi, err := f.Stat(); err == nil && fi.Size()-from > maxBytes {
		from = fi.Size() - maxBytes
	}
	if _, err := f.Seek(from, io.SeekStart); err != nil {
		return fmt.Sprintf("(cannot read %s: %v)", path, err)
	}
	b, err := io.ReadAll(f)
	if err != nil {
		return fmt.Sprintf("(cannot read %s: %v)", path, err)
	}
	lines := strings.Split(strings.TrimRight(string(b), "\n"), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}
