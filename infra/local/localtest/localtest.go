// Package localtest gates integration tests on the local stack: `make
// integration` (and so `make test`) starts a stack, exports its endpoints and
// sets RECOUP_INTEGRATION=1. A plain `go test` skips these tests; under CI a
// missing stack fails them instead, so CI can never pass by skipping.
package localtest

import (
	"os"
	"testing"
)

// Require skips t unless the local stack is configured, and fails it when
// running under CI without one. Each name in vars must be set too.
func Require(t testing.TB, vars ...string) {
	t.Helper()
	missing := ""
	for _, v := range append([]string{"RECOUP_INTEGRATION"}, vars...) {
		if os.Getenv(v) == "" {
			missing = v
			break
		}
	}
	if missing == "" {
		return
	}
	if os.Getenv("CI") != "" {
		t.Fatalf("%s is not set under CI: run integration tests through `make test`", missing)
	}
	t.Skipf("needs the local stack (%s is not set): run `make integration`", missing)
}
