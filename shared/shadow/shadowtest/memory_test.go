package shadowtest

import (
	"testing"

	"github.com/recoup-dev/recoup/shared/shadow"
)

func TestMemoryStoreContract(t *testing.T) {
	Run(t, func(*testing.T) shadow.Log { return NewMemory() })
}
