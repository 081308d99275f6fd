package lambdahost

import (
	"bufio"
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"sync"
	"syscall"
	"time"
)

// Runtime API constants, as documented for API version 2018-06-01 and used
// by aws-lambda-go's lambda/runtime_api_client.go.
const (
	hdrRequestID       = "Lambda-Runtime-Aws-Request-Id"
	hdrDeadlineMS      = "Lambda-Runtime-Deadline-Ms"
	hdrInvokedARN      = "Lambda-Runtime-Invoked-Function-Arn"
	hdrTraceID         = "Lambda-Runtime-Trace-Id"
	hdrClientContext   = "Lambda-Runtime-Client-Context"
	hdrFunctionErrType = "Lambda-Runtime-Function-Error-Type"
	// aws-lambda-go reports errors raised while streaming a response body
	// in these HTTP trailers instead of calling /error.
	trailerErrType = "Lambda-Runtime-Function-Error-Type"
	trailerErrBody = "Lambda-Runtime-Function-Error-Body"

	// maxSyncPayload is Lambda's 6 MB limit for synchronous requests and
	// responses.
	maxSyncPayload = 6 * 1024 * 1024
	// initTimeout is Lambda's limit for the init phase; an instance that has
	// not asked for its first event by then is considered hung.
	initTimeout = 10 * time.Second
)

// outcome is the result of one invocation as the Invoke API reports it.
type outcome struct {
	payload []byte
	// errType is empty on success; otherwise the invocation failed with a
	// function error (X-Amz-Function-Error: Unhandled) and payload is the
	// error document.
	errType string
}

// invocation is one event handed to an instance.
type invocation struct {
	id            string
	payload       []byte
	invokedARN    string
	traceID       string
	clientContext string
	timeout       time.Duration
	// done receives exactly one outcome posted by the runtime (buffered so
	// the Runtime API handler never blocks on a caller that gave up).
	done chan outcome
}

// functionError builds the error document Lambda returns for failures the
// service itself detects (timeouts, crashes), in the shape the runtime uses.
func functionError(errType, msg string) outcome {
	b, _ := json.Marshal(struct {
		ErrorMessage string `json:"errorMessage"`
		ErrorType    string `json:"errorType"`
	}{msg, errType})
	return outcome{payload: b, errType: errType}
}

// function is the pool of instances of one configured function.
type function struct {
	cfg  FunctionConfig
	arn  string
	host *Host
	log  *slog.Logger
	// slots bounds concurrent invocations, and therefore instances, to
	// MaxConcurrency: an instance only exists while it holds a slot or sits
	// idle, and a new one is only started when none is idle.
	slots chan struct{}

	mu     sync.Mutex
	idle   []*instance // LIFO, so the warmest instance is reused first
	all    map[*instance]struct{}
	nextID int
}

func newFunction(h *Host, cfg FunctionConfig) *function {
	return &function{
		cfg:   cfg,
		arn:   FunctionARN(h.region, cfg.Name),
		host:  h,
		log:   h.log.With("function", cfg.Name),
		slots: make(chan struct{}, cfg.MaxConcurrency),
		all:   map[*instance]struct{}{},
	}
}

var errHostClosed = errors.New("lambdahost: host is shutting down")

// invoke runs inv on a warm or new instance. The returned error is only for
// failures outside the function (caller gave up while queued, host
// closing); everything the function does wrong is an outcome with errType.
func (f *function) invoke(ctx context.Context, inv *invocation) (outcome, error) {
	inst, err := f.acquire(ctx)
	if err != nil {
		if errors.Is(err, errHostClosed) || ctx.Err() != nil {
			return outcome{}, err
		}
		// Lambda reports a missing or non-executable bootstrap as a
		// function error, so callers see it the same way here.
		return functionError("Runtime.InvalidEntrypoint",
			fmt.Sprintf("RequestId: %s Error: %v", inv.id, err)), nil
	}
	out := inst.run(inv)
	f.release(inst)
	return out, nil
}

func (f *function) acquire(ctx context.Context) (*instance, error) {
	select {
	case f.slots <- struct{}{}:
	case <-ctx.Done():
		return nil, ctx.Err()
	case <-f.host.closing:
		return nil, errHostClosed
	}
	for {
		f.mu.Lock()
		n := len(f.idle)
		if n == 0 {
			f.mu.Unlock()
			break
		}
		inst := f.idle[n-1]
		f.idle = f.idle[:n-1]
		f.mu.Unlock()
		if inst.exitedNow() {
			continue
		}
		if inst.stale() {
			// Rebuilding dist/*/bootstrap while the host runs should take
			// effect on the next invocation, like a deploy would.
			f.log.Info("bootstrap changed on disk; replacing warm instance", "instance", inst.id)
			inst.kill()
			continue
		}
		return inst, nil
	}
	inst, err := f.start()
	if err != nil {
		<-f.slots
		return nil, err
	}
	return inst, nil
}

func (f *function) release(inst *instance) {
	if !inst.exitedNow() && !inst.isKilled() {
		f.mu.Lock()
		f.idle = append(f.idle, inst)
		f.mu.Unlock()
	}
	<-f.slots
}

// forget drops an exited instance from the pool.
func (f *function) forget(inst *instance) {
	f.mu.Lock()
	defer f.mu.Unlock()
	delete(f.all, inst)
	for i, x := range f.idle {
		if x == inst {
			f.idle = append(f.idle[:i], f.idle[i+1:]...)
			break
		}
	}
}

// killAll stops every instance; used at shutdown.
func (f *function) killAll() []*instance {
	f.mu.Lock()
	list := make([]*instance, 0, len(f.all))
	for inst := range f.all {
		list = append(list, inst)
	}
	f.mu.Unlock()
	for _, inst := range list {
		inst.kill()
	}
	return list
}

// instanceCount reports how many processes the function has (for tests and
// ListFunctions-style introspection).
func (f *function) instanceCount() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return len(f.all)
}

// fileStamp identifies a version of the bootstrap file on disk.
type fileStamp struct {
	size int64
	mod  time.Time
}

func statBootstrap(path string) (fileStamp, error) {
	fi, err := os.Stat(path)
	if err != nil {
		return fileStamp{}, err
	}
	return fileStamp{fi.Size(), fi.ModTime()}, nil
}

// instance is one execution environment: a bootstrap process plus the
// Runtime API listener it polls.
type instance struct {
	fn    *function
	id    int
	log   *slog.Logger
	stamp fileStamp
	cmd   *exec.Cmd
	srv   *http.Server

	// invokeCh hands an invocation to a waiting GET /next; it is unbuffered
	// so a successful send means the runtime has picked the event up.
	invokeCh chan *invocation
	// exited is closed after the process has been reaped.
	exited  chan struct{}
	exitErr error
	// initFailed is closed when the runtime posts /init/error.
	initFailed chan struct{}
	pumps      sync.WaitGroup // stdout/stderr readers

	mu       sync.Mutex
	current  *invocation
	initErr  outcome
	initDone bool
	killed   bool
}

func (f *function) start() (*instance, error) {
	stamp, err := statBootstrap(f.cfg.Bootstrap)
	if err != nil {
		return nil, fmt.Errorf("bootstrap: %w", err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, fmt.Errorf("runtime API listener: %w", err)
	}
	f.mu.Lock()
	f.nextID++
	id := f.nextID
	f.mu.Unlock()

	inst := &instance{
		fn:         f,
		id:         id,
		log:        f.log.With("instance", id),
		stamp:      stamp,
		invokeCh:   make(chan *invocation),
		exited:     make(chan struct{}),
		initFailed: make(chan struct{}),
	}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /2018-06-01/runtime/invocation/next", inst.handleNext)
	mux.HandleFunc("POST /2018-06-01/runtime/invocation/{id}/response", inst.handleResponse)
	mux.HandleFunc("POST /2018-06-01/runtime/invocation/{id}/error", inst.handleError)
	mux.HandleFunc("POST /2018-06-01/runtime/init/error", inst.handleInitError)
	inst.srv = &http.Server{
		Handler:           mux,
		ReadHeaderTimeout: 10 * time.Second,
		ErrorLog:          slog.NewLogLogger(inst.log.Handler(), slog.LevelDebug),
	}
	go func() { _ = inst.srv.Serve(ln) }()

	// Own pipes rather than cmd.StdoutPipe: Wait must not race the readers,
	// and the readers should finish on their own once every process holding
	// the write end is gone.
	outR, outW, err := os.Pipe()
	if err != nil {
		_ = inst.srv.Close()
		return nil, err
	}
	errR, errW, err := os.Pipe()
	if err != nil {
		_ = inst.srv.Close()
		outR.Close()
		outW.Close()
		return nil, err
	}
	var cmd *exec.Cmd
	for attempt := 0; ; attempt++ {
		cmd = exec.Command(f.cfg.Bootstrap)
		cmd.Dir = filepath.Dir(f.cfg.Bootstrap)
		cmd.Env = f.host.instanceEnv(f.cfg, ln.Addr().String(), id)
		cmd.Stdout = outW
		cmd.Stderr = errW
		// A process group lets a timeout kill the bootstrap and anything
		// it spawned; Pdeathsig stops orphans if the host itself dies.
		cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
		err = cmd.Start()
		// ETXTBSY: the bootstrap is still open for writing, typically
		// because `go build` is replacing it right now. Give it a moment.
		if !errors.Is(err, syscall.ETXTBSY) || attempt == 50 {
			break
		}
		time.Sleep(20 * time.Millisecond)
	}
	inst.cmd = cmd
	outW.Close()
	errW.Close()
	if err != nil {
		_ = inst.srv.Close()
		outR.Close()
		errR.Close()
		return nil, err
	}
	inst.pumps.Add(2)
	go inst.pump(outR, "stdout")
	go inst.pump(errR, "stderr")

	f.mu.Lock()
	if f.host.closed.Load() {
		f.mu.Unlock()
		inst.killProcess()
		go inst.wait()
		return nil, errHostClosed
	}
	f.all[inst] = struct{}{}
	f.mu.Unlock()
	go inst.wait()
	inst.log.Info("instance started", "pid", cmd.Process.Pid, "runtime_api", ln.Addr().String())
	return inst, nil
}

func (in *instance) wait() {
	err := in.cmd.Wait()
	// Let the output readers drain what the process wrote before it died,
	// so its last words are logged before "instance exited". A grandchild
	// still holding the pipe must not stall this forever.
	drained := make(chan struct{})
	go func() { in.pumps.Wait(); close(drained) }()
	select {
	case <-drained:
	case <-time.After(2 * time.Second):
	}
	in.mu.Lock()
	in.exitErr = err
	killed := in.killed
	in.mu.Unlock()
	lvl := slog.LevelInfo
	if err != nil && !killed {
		lvl = slog.LevelWarn
	}
	in.log.Log(context.Background(), lvl, "instance exited", "err", errString(err))
	close(in.exited)
	in.fn.forget(in)
	_ = in.srv.Close()
}

func errString(err error) string {
	if err == nil {
		return ""
	}
	return err.Error()
}

// pump copies one of the process's output streams into the host log, one
// record per line, prefixed with the function name so interleaved output
// from several functions stays readable.
func (in *instance) pump(r *os.File, stream string) {
	defer in.pumps.Done()
	defer r.Close()
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 0, 64*1024), 1024*1024)
	prefix := "[" + in.fn.cfg.Name + "] "
	for sc.Scan() {
		in.log.Info(prefix+sc.Text(), "stream", stream)
	}
	_, _ = io.Copy(io.Discard, r) // a line over 1 MB stops the scanner; keep the pipe drained
}

func (in *instance) exitedNow() bool {
	select {
	case <-in.exited:
		return true
	default:
		return false
	}
}

func (in *instance) isKilled() bool {
	in.mu.Lock()
	defer in.mu.Unlock()
	return in.killed
}

func (in *instance) stale() bool {
	s, err := statBootstrap(in.fn.cfg.Bootstrap)
	return err == nil && s != in.stamp
}

// kill terminates the instance's whole process group. It does not wait.
func (in *instance) kill() {
	in.mu.Lock()
	in.killed = true
	in.mu.Unlock()
	in.killProcess()
}

func (in *instance) killProcess() {
	if p := in.cmd.Process; p != nil {
		_ = syscall.Kill(-p.Pid, syscall.SIGKILL)
	}
}

// run hands inv to the instance and waits for its outcome, enforcing the
// function timeout. Once the event is handed over, the caller's context no
// longer matters: like Lambda, the function runs to completion or timeout.
func (in *instance) run(inv *invocation) outcome {
	pickup := time.NewTimer(initTimeout + inv.timeout)
	defer pickup.Stop()
	select {
	case in.invokeCh <- inv:
	case <-in.initFailed:
		in.kill()
		in.mu.Lock()
		out := in.initErr
		in.mu.Unlock()
		return out
	case <-in.exited:
		return in.exitOutcome(inv)
	case <-pickup.C:
		in.log.Warn("instance never asked for an event; killing it", "request_id", inv.id)
		in.kill()
		return in.timeoutOutcome(inv)
	}

	timer := time.NewTimer(inv.timeout)
	defer timer.Stop()
	select {
	case out := <-inv.done:
		return out
	case <-in.exited:
		// A runtime that posts /error and then exits (aws-lambda-go does
		// this on panic) has already delivered its outcome.
		select {
		case out := <-inv.done:
			return out
		default:
		}
		return in.exitOutcome(inv)
	case <-timer.C:
		in.log.Warn("invocation timed out; killing instance", "request_id", inv.id, "timeout", inv.timeout)
		in.kill()
		return in.timeoutOutcome(inv)
	}
}

func (in *instance) timeoutOutcome(inv *invocation) outcome {
	return functionError("Sandbox.Timedout",
		fmt.Sprintf("RequestId: %s Error: Task timed out after %.2f seconds", inv.id, inv.timeout.Seconds()))
}

func (in *instance) exitOutcome(inv *invocation) outcome {
	in.mu.Lock()
	err := in.exitErr
	in.mu.Unlock()
	msg := "Runtime exited without providing a reason"
	if err != nil {
		msg = "Runtime exited with error: " + err.Error()
	}
	return functionError("Runtime.ExitError", fmt.Sprintf("RequestId: %s Error: %s", inv.id, msg))
}

// handleNext implements GET /runtime/invocation/next: a long poll that
// returns the next event.
func (in *instance) handleNext(w http.ResponseWriter, r *http.Request) {
	var inv *invocation
	select {
	case inv = <-in.invokeCh:
	case <-r.Context().Done():
		return
	case <-in.exited:
		return
	}
	in.mu.Lock()
	in.current = inv
	in.initDone = true
	in.mu.Unlock()

	h := w.Header()
	h.Set(hdrRequestID, inv.id)
	h.Set(hdrDeadlineMS, strconv.FormatInt(time.Now().Add(inv.timeout).UnixMilli(), 10))
	h.Set(hdrInvokedARN, inv.invokedARN)
	h.Set(hdrTraceID, inv.traceID)
	if inv.clientContext != "" {
		h.Set(hdrClientContext, inv.clientContext)
	}
	h.Set("Content-Type", "application/json")
	h.Set("Content-Length", strconv.Itoa(len(inv.payload)))
	w.WriteHeader(http.StatusOK)
	_, _ = w.Write(inv.payload)
}

// complete delivers the outcome for request id if it is the instance's
// in-flight invocation.
func (in *instance) complete(id string, out outcome) bool {
	in.mu.Lock()
	inv := in.current
	if inv == nil || inv.id != id {
		in.mu.Unlock()
		return false
	}
	in.current = nil
	in.mu.Unlock()
	inv.done <- out
	return true
}

// runtimeError writes an error document back to the runtime, with the
// status codes the Runtime API documents.
func runtimeError(w http.ResponseWriter, status int, errType, msg string) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(map[string]string{"errorMessage": msg, "errorType": errType})
}

func accepted(w http.ResponseWriter) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(http.StatusAccepted)
	_, _ = io.WriteString(w, `{"status":"OK"}`+"\n")
}

// handleResponse implements POST /runtime/invocation/{id}/response.
func (in *instance) handleResponse(w http.ResponseWriter, r *http.Request) {
	id := r.PathValue("id")
	body, err := io.ReadAll(io.LimitReader(r.Body, maxSyncPayload+1))
	if err != nil {
		runtimeError(w, http.StatusBadRequest, "InvalidRequest", "reading response body: "+err.Error())
		return
	}
	if len(body) > maxSyncPayload {
		in.complete(id, functionError("Function.ResponseSizeTooLarge",
			fmt.Sprintf("Response payload size exceeded maximum allowed payload size (%d bytes).", maxSyncPayload)))
		runtimeError(w, http.StatusRequestEntityTooLarge, "RequestEntityTooLarge",
			fmt.Sprintf("Exceeded maximum allowed payload size (%d bytes).", maxSyncPayload))
		return
	}
	out := outcome{payload: body}
	// The body has been read to EOF, so trailers (sent by aws-lambda-go
	// when producing a streamed response fails midway) are available now.
	if t := r.Trailer.Get(trailerErrType); t != "" {
		doc, derr := base64.StdEncoding.DecodeString(r.Trailer.Get(trailerErrBody))
		if derr != nil || !json.Valid(doc) {
			out = functionError(t, "response stream failed")
		} else {
			out = outcome{payload: doc, errType: t}
		}
	}
	if !in.complete(id, out) {
		runtimeError(w, http.StatusBadRequest, "InvalidRequestID", "Invalid request ID")
		return
	}
	accepted(w)
}

// readErrorDoc reads a posted error document. Runtimes are supposed to post
// {"errorMessage","errorType"} JSON; anything else is wrapped so the Invoke
// caller always gets JSON.
func readErrorDoc(r *http.Request) (outcome, error) {
	body, err := io.ReadAll(io.LimitReader(r.Body, maxSyncPayload+1))
	if err != nil {
		return outcome{}, err
	}
	errType := r.Header.Get(hdrFunctionErrType)
	var doc struct {
		ErrorType string `json:"errorType"`
	}
	if len(body) <= maxSyncPayload && json.Unmarshal(body, &doc) == nil {
		if errType == "" {
			errType = doc.ErrorType
		}
		if errType == "" {
			errType = "Unhandled"
		}
		return outcome{payload: body, errType: errType}, nil
	}
	if errType == "" {
		errType = "Runtime.Unknown"
	}
	msg := string(body)
	if len(msg) > 4096 {
		msg = msg[:4096]
	}
	return functionError(errType, msg), nil
}

// handleError implements POST /runtime/invocation/{id}/error.
func (in *instance) handleError(w http.ResponseWriter, r *http.Request) {
	out, err := readErrorDoc(r)
	if err != nil {
		runtimeError(w, http.StatusBadRequest, "InvalidRequest", "reading error body: "+err.Error())
		return
	}
	if !in.complete(r.PathValue("id"), out) {
		runtimeError(w, http.StatusBadRequest, "InvalidRequestID", "Invalid request ID")
		return
	}
	accepted(w)
}

// handleInitError implements POST /runtime/init/error. The runtime is
// expected to exit afterwards; the pending invocation fails with the posted
// error, as Lambda does for init failures.
func (in *instance) handleInitError(w http.ResponseWriter, r *http.Request) {
	out, err := readErrorDoc(r)
	if err != nil {
		runtimeError(w, http.StatusBadRequest, "InvalidRequest", "reading error body: "+err.Error())
		return
	}
	in.mu.Lock()
	if in.initDone {
		in.mu.Unlock()
		runtimeError(w, http.StatusForbidden, "InvalidStateTransition", "init/error is only valid before the first /next")
		return
	}
	in.initDone = true
	in.initErr = out
	in.mu.Unlock()
	close(in.initFailed)
	in.log.Warn("runtime reported an init error", "error_type", out.errType, "error", string(out.payload))
	accepted(w)
}
