package lambdahost

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/service/kinesis/types"
	"github.com/google/go-cmp/cmp"
)

func TestParseConfig(t *testing.T) {
	t.Parallel()
	base := t.TempDir()
	full := `{
	  "functions": [
	    {"name":"ingest","bootstrap":"dist/ingest/bootstrap","environment":{"TABLE":"recoup"},"timeout_seconds":30,"memory_mb":512,"max_concurrency":4},
	    {"name":"engagement","bootstrap":"/abs/engagement/bootstrap"}
	  ],
	  "event_source_mappings": [
	    {"function":"engagement","stream_name":"recoup-engagement","batch_size":100,"starting_position":"TRIM_HORIZON",
	     "bisect_batch_on_function_error":true,"maximum_retry_attempts":3,"function_response_types":["ReportBatchItemFailures"],
	     "on_failure_path":".local/esm-failures/engagement.jsonl","polling_interval_ms":200}
	  ]
	}`
	wantFull := &Config{
		Functions: []FunctionConfig{
			{Name: "ingest", Bootstrap: filepath.Join(base, "dist/ingest/bootstrap"), Environment: map[string]string{"TABLE": "recoup"},
				TimeoutSeconds: 30, MemoryMB: 512, MaxConcurrency: 4},
			{Name: "engagement", Bootstrap: "/abs/engagement/bootstrap", TimeoutSeconds: DefaultTimeoutSeconds,
				MemoryMB: DefaultMemoryMB, MaxConcurrency: DefaultMaxConcurrency},
		},
		EventSourceMappings: []EventSourceMappingConfig{{
			Function: "engagement", StreamName: "recoup-engagement", BatchSize: 100, StartingPosition: "TRIM_HORIZON",
			BisectBatchOnFunctionError: true, MaximumRetryAttempts: intPtr(3),
			FunctionResponseTypes: []string{ReportBatchItemFailures},
			OnFailurePath:         filepath.Join(base, ".local/esm-failures/engagement.jsonl"),
			CheckpointPath:        filepath.Join(base, ".local/esm-failures/engagement.checkpoint.json"),
			PollingIntervalMS:     200,
		}},
	}

	tests := []struct {
		name    string
		json    string
		want    *Config
		wantErr []string // substrings, each must appear
	}{
		{name: "full example with defaults and resolved paths", json: full, want: wantFull},
		{
			name: "mapping defaults",
			json: `{"functions":[{"name":"f","bootstrap":"b"}],"event_source_mappings":[{"function":"f","stream_name":"s","starting_position":"LATEST"}]}`,
			want: &Config{
				Functions: []FunctionConfig{{Name: "f", Bootstrap: filepath.Join(base, "b"), TimeoutSeconds: 3, MemoryMB: 128, MaxConcurrency: 4}},
				EventSourceMappings: []EventSourceMappingConfig{{Function: "f", StreamName: "s", StartingPosition: "LATEST",
					BatchSize: 100, PollingIntervalMS: 1000}},
			},
		},
		{name: "no functions", json: `{"functions":[]}`, wantErr: []string{"functions: at least one function is required"}},
		{name: "unknown field", json: `{"functions":[{"name":"f","bootstrap":"b","timeout_second":3}]}`,
			wantErr: []string{`unknown field "timeout_second"`}},
		{name: "trailing data", json: `{"functions":[{"name":"f","bootstrap":"b"}]} {}`, wantErr: []string{"trailing data"}},
		{
			name: "every function field validated and named",
			json: `{"functions":[
			  {"name":"bad name!","bootstrap":"","timeout_seconds":901,"memory_mb":64,"max_concurrency":-1,
			   "environment":{"AWS_REGION":"x","1BAD":"y"}},
			  {"name":"dup","bootstrap":"b"},{"name":"dup","bootstrap":"b"}]}`,
			wantErr: []string{
				`functions[0].name: "bad name!" must be`,
				"functions[0].bootstrap: is required",
				"functions[0].timeout_seconds: must be between 1 and 900, got 901",
				"functions[0].memory_mb: must be between 128 and 10240, got 64",
				"functions[0].max_concurrency: must be between 1 and 256, got -1",
				`functions[0].environment: key "AWS_REGION" is reserved`,
				`functions[0].environment: key "1BAD" is not a valid variable name`,
				`functions[2].name: "dup" is defined twice`,
			},
		},
		{
			name: "every mapping field validated and named",
			json: `{"functions":[{"name":"f","bootstrap":"b"}],"event_source_mappings":[
			  {"function":"g","stream_name":"arn:aws:kinesis:us-east-1:000000000000:stream/s","batch_size":10001,
			   "starting_position":"AT_TIMESTAMP","maximum_retry_attempts":-1,"function_response_types":["Nope"],
			   "polling_interval_ms":-5},
			  {"function":"f","stream_name":"","starting_position":""}]}`,
			wantErr: []string{
				`event_source_mappings[0].function: "g" is not one of the configured functions`,
				"event_source_mappings[0].stream_name: must be a stream name, not an ARN",
				"event_source_mappings[0].batch_size: must be between 1 and 10000, got 10001",
				`event_source_mappings[0].starting_position: must be TRIM_HORIZON or LATEST, got "AT_TIMESTAMP"`,
				"event_source_mappings[0].maximum_retry_attempts: must be between 0 and 10000, got -1",
				`event_source_mappings[0].function_response_types: unsupported value "Nope"`,
				"event_source_mappings[0].polling_interval_ms: must be between 1 and 60000, got -5",
				"event_source_mappings[1].stream_name: is required",
				"event_source_mappings[1].starting_position: is required",
			},
		},
		{
			name: "duplicate mapping and shared checkpoint file",
			json: `{"functions":[{"name":"f","bootstrap":"b"},{"name":"g","bootstrap":"b"}],"event_source_mappings":[
			  {"function":"f","stream_name":"s","starting_position":"LATEST","on_failure_path":"x.jsonl"},
			  {"function":"f","stream_name":"s","starting_position":"LATEST"},
			  {"function":"g","stream_name":"s","starting_position":"LATEST","checkpoint_path":"x.checkpoint.json"}]}`,
			wantErr: []string{
				`event_source_mappings[1]: duplicate mapping of stream "s" to function "f"`,
				"event_source_mappings[2].checkpoint_path:",
			},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := ParseConfig([]byte(tc.json), base)
			if len(tc.wantErr) > 0 {
				if err == nil {
					t.Fatalf("ParseConfig succeeded, want errors %q", tc.wantErr)
				}
				for _, w := range tc.wantErr {
					if !strings.Contains(err.Error(), w) {
						t.Errorf("error lacks %q; got:\n%v", w, err)
					}
				}
				return
			}
			if err != nil {
				t.Fatalf("ParseConfig: %v", err)
			}
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("config (-want +got):\n%s", diff)
			}
		})
	}
}

func TestLoadConfigNamesTheFile(t *testing.T) {
	t.Parallel()
	path := filepath.Join(t.TempDir(), "lambdahost.json")
	if err := os.WriteFile(path, []byte(`{"functions":[{"name":"f"}]}`), 0o644); err != nil {
		t.Fatal(err)
	}
	_, err := LoadConfig(path, ".")
	if err == nil || !strings.Contains(err.Error(), path) || !strings.Contains(err.Error(), "functions[0].bootstrap: is required") {
		t.Errorf("LoadConfig error = %v", err)
	}
	if _, err := LoadConfig(filepath.Join(t.TempDir(), "missing.json"), "."); err == nil {
		t.Error("LoadConfig of a missing file succeeded")
	}
}

func TestParseFunctionName(t *testing.T) {
	t.Parallel()
	tests := []struct{ in, name, qualifier string }{
		{"ingest", "ingest", ""},
		{"ingest:$LATEST", "ingest", "$LATEST"},
		{"000000000000:function:ingest", "ingest", ""},
		{"arn:aws:lambda:us-east-1:000000000000:function:ingest", "ingest", ""},
		{"arn:aws:lambda:us-east-1:000000000000:function:ingest:live", "ingest", "live"},
	}
	for _, tc := range tests {
		name, q := parseFunctionName(tc.in)
		if name != tc.name || q != tc.qualifier {
			t.Errorf("parseFunctionName(%q) = %q, %q; want %q, %q", tc.in, name, q, tc.name, tc.qualifier)
		}
	}
}

func TestSplitBySize(t *testing.T) {
	t.Parallel()
	rec := func(n int) types.Record { return types.Record{Data: make([]byte, n)} }
	mb := 1024 * 1024
	tests := []struct {
		name  string
		sizes []int
		want  []int // records per chunk
	}{
		{"small batch stays whole", []int{10, 10, 10}, []int{3}},
		{"1 MB records split under 6 MB of base64", []int{mb, mb, mb, mb, mb, mb, mb, mb}, []int{4, 4}},
		{"single oversized record still goes alone", []int{5 * mb, 5 * mb}, []int{1, 1}},
	}
	for _, tc := range tests {
		var recs []types.Record
		for _, s := range tc.sizes {
			recs = append(recs, rec(s))
		}
		var got []int
		for _, c := range splitBySize(recs) {
			got = append(got, len(c))
		}
		if diff := cmp.Diff(tc.want, got); diff != "" {
			t.Errorf("%s (-want +got):\n%s", tc.name, diff)
		}
	}
}
