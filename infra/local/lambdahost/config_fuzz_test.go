package lambdahost

import (
	"encoding/json"
	"testing"
)

// FuzzParseConfig checks that no input makes the config parser panic, and
// that a config it accepts survives a JSON round trip unchanged in meaning:
// parsing its own encoding accepts it again.
func FuzzParseConfig(f *testing.F) {
	f.Add([]byte(`{"functions":[{"name":"ingest","bootstrap":"dist/ingest/bootstrap","timeout_seconds":60,"memory_mb":512}],"event_source_mappings":[]}`))
	f.Add([]byte(`{"functions":[{"name":"engagement","bootstrap":"b"}],"event_source_mappings":[{"function":"engagement","stream_name":"s","starting_position":"TRIM_HORIZON","batch_size":10,"bisect_batch_on_function_error":true,"function_response_types":["ReportBatchItemFailures"]}]}`))
	f.Add([]byte(`{"functions":[]}`))
	f.Add([]byte(`{`))
	f.Fuzz(func(t *testing.T, data []byte) {
		cfg, err := ParseConfig(data, "/base")
		if err != nil {
			return
		}
		again, err := json.Marshal(cfg)
		if err != nil {
			t.Fatalf("accepted config does not encode: %v", err)
		}
		if _, err := ParseConfig(again, "/base"); err != nil {
			t.Fatalf("accepted %s but refused its own encoding %s: %v", data, again, err)
		}
	})
}
