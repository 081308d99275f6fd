// Package schema compares the feature names a model (or a reference) was
// built on with the names of the rows it is given. Rows of other features
// would be scored without any error, and wrongly, so every consumer of a
// trained artifact checks them, and all say the same thing about the
// first difference.
package schema

import "fmt"

// Compare returns nil when got names exactly the columns of want, in
// order; otherwise an error naming the first difference. wantIs and gotIs
// say what the two lists belong to ("model", "rows"), for the message.
func Compare(want, got []string, wantIs, gotIs string) error {
	for i := range min(len(want), len(got)) {
		if want[i] != got[i] {
			return fmt.Errorf("column %d is %q in the %s, %q in the %s", i, want[i], wantIs, got[i], gotIs)
		}
	}
	switch {
	case len(got) < len(want):
		return fmt.Errorf("the %s lacks column %d %q", gotIs, len(got), want[len(got)])
	case len(got) > len(want):
		return fmt.Errorf("the %s has an extra column %d %q", gotIs, len(want), got[len(want)])
	}
	return nil
}
