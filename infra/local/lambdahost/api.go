package lambdahost

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"sort"
)

// maxAsyncPayload is Lambda's limit for Event (asynchronous) invocations.
const maxAsyncPayload = 1024 * 1024

// Handler returns the Invoke API handler (also served by Start). It is
// exported so tests or other tools can mount it elsewhere.
//
// SigV4 signatures are not checked: any credentials are accepted.
func (h *Host) Handler() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("POST /2015-03-31/functions/{name}/invocations", h.handleInvoke)
	mux.HandleFunc("GET /2015-03-31/functions", h.handleListFunctions)
	mux.HandleFunc("GET /2015-03-31/functions/", h.handleListFunctions)
	mux.HandleFunc("GET /2015-03-31/functions/{name}", h.handleGetFunction)
	mux.HandleFunc("GET /health", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		_, _ = io.WriteString(w, `{"status":"ok"}`+"\n")
	})
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		apiError(w, http.StatusNotFound, "UnknownOperationException",
			fmt.Sprintf("lambdahost does not implement %s %s", r.Method, r.URL.Path))
	})
	return mux
}

// apiError writes a Lambda-style error. aws-sdk-go-v2 (restjson1) takes the
// error code from X-Amzn-ErrorType, so e.g. ResourceNotFoundException maps
// to *types.ResourceNotFoundException.
func apiError(w http.ResponseWriter, status int, code, msg string) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("X-Amzn-ErrorType", code)
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(map[string]string{"Type": "User", "message": msg})
}

func (h *Host) handleInvoke(w http.ResponseWriter, r *http.Request) {
	name, qualifier := parseFunctionName(r.PathValue("name"))
	f, ok := h.funcs[name]
	if !ok {
		apiError(w, http.StatusNotFound, "ResourceNotFoundException",
			"Function not found: "+FunctionARN(h.region, name))
		return
	}
	if q := r.URL.Query().Get("Qualifier"); q != "" {
		qualifier = q // only one version exists locally; the qualifier just shows up in the invoked ARN
	}

	invType := r.Header.Get("X-Amz-Invocation-Type")
	limit := int64(maxSyncPayload)
	switch invType {
	case "", "RequestResponse":
		invType = "RequestResponse"
	case "Event":
		limit = maxAsyncPayload
	case "DryRun":
	default:
		apiError(w, http.StatusBadRequest, "InvalidParameterValueException",
			fmt.Sprintf("Unsupported invocation type %q", invType))
		return
	}
	payload, err := io.ReadAll(io.LimitReader(r.Body, limit+1))
	if err != nil {
		apiError(w, http.StatusBadRequest, "InvalidRequestContentException", "reading request body: "+err.Error())
		return
	}
	if int64(len(payload)) > limit {
		apiError(w, http.StatusRequestEntityTooLarge, "RequestTooLargeException",
			fmt.Sprintf("Request must be smaller than %d bytes for the %s invocation type", limit, invType))
		return
	}
	if len(payload) > 0 && !json.Valid(payload) {
		apiError(w, http.StatusBadRequest, "InvalidRequestContentException", "Could not parse request body into json")
		return
	}

	p := invokeParams{
		name:    f.cfg.Name,
		payload: payload,
		traceID: r.Header.Get("X-Amzn-Trace-Id"),
	}
	if qualifier != "" {
		p.name += ":" + qualifier
	}
	if cc := r.Header.Get("X-Amz-Client-Context"); cc != "" {
		// The Invoke API takes base64; the Runtime API hands the runtime
		// the decoded JSON.
		dec, err := base64.StdEncoding.DecodeString(cc)
		if err != nil || !json.Valid(dec) {
			apiError(w, http.StatusBadRequest, "InvalidRequestContentException", "Client context must be a valid base64-encoded JSON object")
			return
		}
		p.clientContext = string(dec)
	}
	w.Header().Set("X-Amz-Executed-Version", "$LATEST")

	switch invType {
	case "DryRun":
		w.WriteHeader(http.StatusNoContent)
		return
	case "Event":
		// Detached from the HTTP request: the caller has its 202 already.
		// Unlike Lambda there is no async retry or destination; failures
		// are only logged.
		started := h.goBackground(func() {
			res, err := h.invoke(h.baseCtx, p)
			switch {
			case err != nil:
				h.log.Warn("async invocation not run", "function", f.cfg.Name, "err", err)
			case res.FunctionError != "":
				h.log.Error("async invocation failed (no retries locally)", "function", f.cfg.Name,
					"request_id", res.RequestID, "error", truncate(string(res.Payload), 1024))
			}
		})
		if !started {
			apiError(w, http.StatusServiceUnavailable, "ServiceException", "The local Lambda host is shutting down")
			return
		}
		w.Header().Set("X-Amzn-RequestId", newRequestID())
		w.WriteHeader(http.StatusAccepted)
		return
	}

	res, err := h.invoke(r.Context(), p)
	if err != nil {
		switch {
		case errors.Is(err, errHostClosed):
			apiError(w, http.StatusServiceUnavailable, "ServiceException", "The local Lambda host is shutting down")
		case errors.Is(err, context.Canceled), errors.Is(err, context.DeadlineExceeded):
			// The client went away while queued for a free instance.
			apiError(w, http.StatusRequestTimeout, "ServiceException", "request cancelled while waiting for an instance")
		default:
			apiError(w, http.StatusInternalServerError, "ServiceException", err.Error())
		}
		return
	}
	w.Header().Set("X-Amzn-RequestId", res.RequestID)
	w.Header().Set("Content-Type", "application/json")
	if res.FunctionError != "" {
		w.Header().Set("X-Amz-Function-Error", res.FunctionError)
	}
	w.WriteHeader(http.StatusOK)
	_, _ = w.Write(res.Payload)
}

// functionConfiguration is the subset of Lambda's FunctionConfiguration
// shape the host can fill in truthfully.
type functionConfiguration struct {
	FunctionName     string   `json:"FunctionName"`
	FunctionArn      string   `json:"FunctionArn"`
	Runtime          string   `json:"Runtime"`
	Handler          string   `json:"Handler"`
	MemorySize       int      `json:"MemorySize"`
	Timeout          int      `json:"Timeout"`
	Version          string   `json:"Version"`
	PackageType      string   `json:"PackageType"`
	Architectures    []string `json:"Architectures"`
	State            string   `json:"State"`
	LastUpdateStatus string   `json:"LastUpdateStatus"`
	LastModified     string   `json:"LastModified"`
	Environment      struct {
		Variables map[string]string `json:"Variables"`
	} `json:"Environment"`
}

func (h *Host) describe(f *function) functionConfiguration {
	c := functionConfiguration{
		FunctionName:     f.cfg.Name,
		FunctionArn:      f.arn,
		Runtime:          "provided.al2023",
		Handler:          "bootstrap",
		MemorySize:       f.cfg.MemoryMB,
		Timeout:          f.cfg.TimeoutSeconds,
		Version:          "$LATEST",
		PackageType:      "Zip",
		Architectures:    []string{"x86_64"},
		State:            "Active",
		LastUpdateStatus: "Successful",
	}
	if s, err := statBootstrap(f.cfg.Bootstrap); err == nil {
		c.LastModified = s.mod.UTC().Format("2006-01-02T15:04:05.000+0000")
	} else {
		c.State = "Failed" // nothing to run yet
	}
	c.Environment.Variables = f.cfg.Environment
	if c.Environment.Variables == nil {
		c.Environment.Variables = map[string]string{}
	}
	return c
}

func (h *Host) handleListFunctions(w http.ResponseWriter, r *http.Request) {
	names := make([]string, 0, len(h.funcs))
	for n := range h.funcs {
		names = append(names, n)
	}
	sort.Strings(names)
	out := struct {
		Functions []functionConfiguration `json:"Functions"`
	}{Functions: []functionConfiguration{}}
	for _, n := range names {
		out.Functions = append(out.Functions, h.describe(h.funcs[n]))
	}
	writeJSON(w, out)
}

func (h *Host) handleGetFunction(w http.ResponseWriter, r *http.Request) {
	name, _ := parseFunctionName(r.PathValue("name"))
	f, ok := h.funcs[name]
	if !ok {
		apiError(w, http.StatusNotFound, "ResourceNotFoundException",
			"Function not found: "+FunctionARN(h.region, name))
		return
	}
	out := struct {
		Configuration functionConfiguration `json:"Configuration"`
		Concurrency   struct {
			ReservedConcurrentExecutions int `json:"ReservedConcurrentExecutions"`
		} `json:"Concurrency"`
	}{Configuration: h.describe(f)}
	out.Concurrency.ReservedConcurrentExecutions = f.cfg.MaxConcurrency
	writeJSON(w, out)
}

func writeJSON(w http.ResponseWriter, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("X-Amzn-RequestId", newRequestID())
	_ = json.NewEncoder(w).Encode(v)
}
