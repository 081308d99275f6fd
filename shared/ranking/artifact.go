package ranking

import (
	"bytes"
	"encoding/json"
	"fmt"
	"slices"
	"time"

	"github.com/recoup-dev/recoup/shared/drift"
	"github.com/recoup-dev/recoup/shared/features"
	"github.com/recoup-dev/recoup/shared/scoring"
)

// Schema identifies the artifact format; a loader refuses any other.
const Schema = "recoup.ranking/1"

type artifact struct {
	Schema         string                     `json:"schema"`
	FeatureVersion string                     `json:"feature_version"`
	Features       []string                   `json:"features"`
	TrainedAt      time.Time                  `json:"trained_at"`
	DataEnd        time.Time                  `json:"data_end"`
	Validation     Metrics                    `json:"validation"`
	Drift          *drift.Reference           `json:"drift"`
	Heads          map[string]json.RawMessage `json:"heads"`
}

func headName(j int) string { return fmt.Sprintf("pay_within_%d", Horizons[j]) }

const daysHead = "days_to_pay"

// MarshalBinary writes the model as one self-describing JSON artifact:
// schema, feature version and names, training dates, validation metrics
// and every head.
func (m *Model) MarshalBinary() ([]byte, error) {
	a := artifact{Schema: Schema, FeatureVersion: m.FeatureVersion, Features: m.Features,
		TrainedAt: m.TrainedAt, DataEnd: m.DataEnd, Validation: m.Validation, Drift: m.Drift, Heads: map[string]json.RawMessage{}}
	for j := range Horizons {
		b, err := m.within[j].MarshalBinary()
		if err != nil {
			return nil, err
		}
		a.Heads[headName(j)] = b
	}
	b, err := m.days.MarshalBinary()
	if err != nil {
		return nil, err
	}
	a.Heads[daysHead] = b
	return json.MarshalIndent(a, "", " ")
}

// UnmarshalBinary reads an artifact written by MarshalBinary. It refuses
// (with scoring.ErrSchema) another schema, and a model whose features are
// not exactly the ones this build computes: scoring rows of one feature
// version with a model of another would be wrong without any error.
func (m *Model) UnmarshalBinary(data []byte) error {
	var a artifact
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&a); err != nil {
		return fmt.Errorf("%w: ranking artifact: %w", scoring.ErrSchema, err)
	}
	if a.Schema != Schema {
		return fmt.Errorf("%w: artifact schema %q, this build reads %q", scoring.ErrSchema, a.Schema, Schema)
	}
	if a.FeatureVersion != features.Version {
		return fmt.Errorf("%w: the model was trained on features %q, this build computes %q: retrain it",
			scoring.ErrSchema, a.FeatureVersion, features.Version)
	}
	if err := scoring.CheckSchema(a.Features, features.Names[:]); err != nil {
		return err
	}
	if a.Drift == nil {
		return fmt.Errorf("%w: the artifact has no drift reference", scoring.ErrSchema)
	}
	if err := scoring.CheckSchema(a.Drift.Names(), a.Features); err != nil {
		return fmt.Errorf("drift reference: %w", err)
	}
	out := Model{FeatureVersion: a.FeatureVersion, Features: a.Features, TrainedAt: a.TrainedAt,
		DataEnd: a.DataEnd, Validation: a.Validation, Drift: a.Drift}
	want := []string{daysHead}
	for j := range Horizons {
		want = append(want, headName(j))
	}
	for name := range a.Heads {
		if !slices.Contains(want, name) {
			return fmt.Errorf("%w: unknown head %q", scoring.ErrSchema, name)
		}
	}
	for j := range Horizons {
		raw, ok := a.Heads[headName(j)]
		if !ok {
			return fmt.Errorf("%w: head %s is missing", scoring.ErrSchema, headName(j))
		}
		c := &scoring.Classifier{}
		if err := c.UnmarshalBinary(raw); err != nil {
			return fmt.Errorf("head %s: %w", headName(j), err)
		}
		if err := scoring.CheckSchema(c.Names(), a.Features); err != nil {
			return fmt.Errorf("head %s: %w", headName(j), err)
		}
		out.within[j] = c
	}
	raw, ok := a.Heads[daysHead]
	if !ok {
		return fmt.Errorf("%w: head %s is missing", scoring.ErrSchema, daysHead)
	}
	r := &scoring.Regressor{}
	if err := r.UnmarshalBinary(raw); err != nil {
		return fmt.Errorf("head %s: %w", daysHead, err)
	}
	if err := scoring.CheckSchema(r.Names(), a.Features); err != nil {
		return fmt.Errorf("head %s: %w", daysHead, err)
	}
	out.days = r
	*m = out
	return nil
}
