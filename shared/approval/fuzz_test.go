package approval_test

import (
	"encoding/json"
	"errors"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/recoup-dev/recoup/shared/approval"
)

// FuzzDecisionBody: the parser never panics; what it accepts is a valid
// verdict that survives a round trip; what it refuses is a *FieldError
// naming a field.
func FuzzDecisionBody(f *testing.F) {
	for _, seed := range []string{
		`{"tenant":"acme","verdict":"approved","by":"col-7"}`,
		`{"tenant":"acme","verdict":"edited","by":"col-7","note":"n","draft":{"subject":"S","body":"B"}}`,
		`{"tenant":"acme","verdict":"rejected","by":"col-7","note":"\u00e9\ud83d\ude00"}`,
		`{"tenant":"acme","verdict":"handed_off","by":"col-7","draft":null}`,
		`{"tenant":"acme","verdict":"edited","by":"col-7","draft":{"body":1}}`,
		`{"tenant":"acme","verdict":"approved","by":"col-7"}{}`,
		`{"tenant":"acme","verdict":"approved","by":"col-7","x":1}`,
		`{"tenant":"acme","verdict":"approved","by":"co#l"}`,
		`{"tenant":"\xff","verdict":"approved","by":"c"}`,
		`{"verdict":"edited","by":"c","draft":{"subject":"s","body":"b","channel":"sms"}}`,
		`[]`, `null`, ``, `{`, `{"tenant":`, `"x"`, `{"by":{"a":1}}`,
	} {
		f.Add([]byte(seed))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		tenant, v, err := approval.ParseDecisionBody(data)
		if err != nil {
			var fe *approval.FieldError
			if !errors.As(err, &fe) || fe.Field == "" || fe.Problem == "" || !errors.Is(err, approval.ErrInvalid) {
				t.Fatalf("refusal %v (%T) is not a FieldError naming a field", err, err)
			}
			return
		}
		if err := v.Validate(); err != nil {
			t.Fatalf("accepted an invalid verdict %+v: %v", v, err)
		}
		if !v.At.IsZero() || (v.Draft != nil && v.Draft.Channel != "") {
			t.Fatalf("the body set what the service sets: %+v", v)
		}
		body := approval.DecisionBody{Tenant: tenant, Verdict: v.Kind, By: v.By, Note: v.Note}
		if v.Draft != nil {
			body.Draft = &approval.DraftEdit{Subject: v.Draft.Subject, Body: v.Draft.Body}
		}
		again, err := json.Marshal(body)
		if err != nil {
			t.Fatal(err)
		}
		tenant2, v2, err := approval.ParseDecisionBody(again)
		if err != nil {
			t.Fatalf("re-encoded body %s refused: %v", again, err)
		}
		if tenant2 != tenant || !v2.Same(v) {
			t.Fatalf("round trip changed the decision: %q %+v -> %q %s", tenant, v, tenant2, cmp.Diff(v, v2))
		}
	})
}
