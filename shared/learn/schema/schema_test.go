package schema

import "testing"

func TestCompare(t *testing.T) {
	want := []string{"a", "b", "c"}
	for _, tc := range []struct {
		got []string
		err string
	}{
		{[]string{"a", "b", "c"}, ""},
		{[]string{"a", "x", "c"}, `column 1 is "b" in the model, "x" in the rows`},
		{[]string{"a", "b"}, `the rows lacks column 2 "c"`},
		{nil, `the rows lacks column 0 "a"`},
		{[]string{"a", "b", "c", "d"}, `the rows has an extra column 3 "d"`},
		{[]string{"b", "a", "c"}, `column 0 is "a" in the model, "b" in the rows`},
	} {
		err := Compare(want, tc.got, "model", "rows")
		if (err == nil) != (tc.err == "") || (err != nil && err.Error() != tc.err) {
			t.Errorf("%v: got %v, want %q", tc.got, err, tc.err)
		}
	}
}
