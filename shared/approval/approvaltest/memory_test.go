package approvaltest_test

import (
	"testing"

	"github.com/recoup-dev/recoup/shared/approval"
	"github.com/recoup-dev/recoup/shared/approval/approvaltest"
)

func TestMemoryHonoursTheStoreContract(t *testing.T) {
	approvaltest.Run(t, func(*testing.T) approval.Store { return approvaltest.NewMemory() })
}
