package scoring

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"slices"

	"github.com/recoup-dev/recoup/shared/learn/gbdt"
	"github.com/recoup-dev/recoup/shared/learn/linear"
	"github.com/recoup-dev/recoup/shared/learn/schema"
)

// ErrSchema marks a serialised model that cannot be used: another format
// or version, damaged parts, or features other than the caller's.
var ErrSchema = errors.New("scoring: model does not match")

// codecVersion is the version of the serialised blend; a loader refuses
// any other, since a misread model scores every invoice wrongly and
// silently.
const codecVersion = "recoup.scoring.blend/1"

type blendJSON struct {
	Version    string          `json:"version"`
	Classifier bool            `json:"classifier"`
	Names      []string        `json:"features"`
	Used       []int           `json:"used"`
	Flags      []int           `json:"missing_flags,omitempty"`
	Weight     float64         `json:"trees_weight"`
	Linear     json.RawMessage `json:"linear,omitempty"`
	Trees      []byte          `json:"trees,omitempty"` // gbdt's checksummed binary form
}

func (b *blend) marshal() ([]byte, error) {
	w := blendJSON{Version: codecVersion, Classifier: b.classif, Names: b.names, Used: b.used, Flags: b.flags, Weight: b.weight}
	var err error
	switch {
	case b.logit != nil:
		w.Linear, err = b.logit.MarshalJSON()
	case b.ols != nil:
		w.Linear, err = b.ols.MarshalJSON()
	}
	if err != nil {
		return nil, err
	}
	if b.trees != nil {
		if w.Trees, err = b.trees.MarshalBinary(); err != nil {
			return nil, err
		}
	}
	return json.Marshal(w)
}

func unmarshalBlend(data []byte, classif bool) (*blend, error) {
	var w blendJSON
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&w); err != nil {
		return nil, fmt.Errorf("%w: %w", ErrSchema, err)
	}
	switch {
	case w.Version != codecVersion:
		return nil, fmt.Errorf("%w: version %q, this build reads %q", ErrSchema, w.Version, codecVersion)
	case w.Classifier != classif:
		return nil, fmt.Errorf("%w: a classifier and a regressor are not interchangeable", ErrSchema)
	case len(w.Names) == 0:
		return nil, fmt.Errorf("%w: no feature names", ErrSchema)
	case !(w.Weight >= 0 && w.Weight <= 1):
		return nil, fmt.Errorf("%w: trees weight %v outside [0,1]", ErrSchema, w.Weight)
	}
	for i, j := range w.Used {
		if j < 0 || j >= len(w.Names) || (i > 0 && j <= w.Used[i-1]) {
			return nil, fmt.Errorf("%w: used columns %v are not increasing indexes of %d features", ErrSchema, w.Used, len(w.Names))
		}
	}
	for i, j := range w.Flags {
		if !classif || w.Weight == 1 || !slices.Contains(w.Used, j) || (i > 0 && j <= w.Flags[i-1]) {
			return nil, fmt.Errorf("%w: missing flags %v are not increasing used columns of a classifier's linear part", ErrSchema, w.Flags)
		}
	}
	b := &blend{names: w.Names, used: w.Used, flags: w.Flags, weight: w.Weight, classif: classif}
	usedNames := linearNames(w.Names, w.Used, w.Flags)
	if w.Weight < 1 {
		if len(w.Linear) == 0 {
			return nil, fmt.Errorf("%w: the linear part is missing", ErrSchema)
		}
		var names []string
		var std *linear.Standardizer
		if classif {
			b.logit = &linear.Logistic{}
			if err := b.logit.UnmarshalJSON(w.Linear); err != nil {
				return nil, fmt.Errorf("%w: linear part: %w", ErrSchema, err)
			}
			names, std = b.logit.Names(), b.logit.Standardizer()
		} else {
			b.ols = &linear.Regression{}
			if err := b.ols.UnmarshalJSON(w.Linear); err != nil {
				return nil, fmt.Errorf("%w: linear part: %w", ErrSchema, err)
			}
			names, std = b.ols.Names(), b.ols.Standardizer()
		}
		// The blend scores rows with missing values; a linear part that
		// refuses them would turn them into NaN scores.
		if std.Missing() != linear.MissingImpute {
			return nil, fmt.Errorf("%w: the linear part's missing values are %q, the blend imputes them", ErrSchema, std.Missing())
		}
		if !slices.Equal(names, usedNames) {
			return nil, fmt.Errorf("%w: the linear part reads %v, the blend says %v", ErrSchema, names, usedNames)
		}
		if classif {
			b.setFlagBase()
		}
	}
	if w.Weight > 0 {
		if len(w.Trees) == 0 {
			return nil, fmt.Errorf("%w: the trees are missing", ErrSchema)
		}
		b.trees = &gbdt.Model{}
		if err := b.trees.UnmarshalBinary(w.Trees); err != nil {
			return nil, fmt.Errorf("%w: trees: %w", ErrSchema, err)
		}
		if err := b.trees.CheckSchema(w.Names); err != nil {
			return nil, fmt.Errorf("%w: trees: %w", ErrSchema, err)
		}
		want := gbdt.SquaredError
		if classif {
			want = gbdt.Logistic
		}
		if b.trees.Objective() != want {
			return nil, fmt.Errorf("%w: trees have objective %v", ErrSchema, b.trees.Objective())
		}
	}
	return b, nil
}

// MarshalBinary encodes the classifier: the blend weight, the linear part
// and the trees, each in its learner's own versioned form.
func (c *Classifier) MarshalBinary() ([]byte, error) { return c.b.marshal() }

// UnmarshalBinary decodes a classifier written by MarshalBinary; errors
// wrap ErrSchema.
func (c *Classifier) UnmarshalBinary(data []byte) error {
	b, err := unmarshalBlend(data, true)
	if err != nil {
		return err
	}
	c.b = b
	return nil
}

// MarshalBinary encodes the regressor.
func (r *Regressor) MarshalBinary() ([]byte, error) { return r.b.marshal() }

// UnmarshalBinary decodes a regressor written by MarshalBinary; errors
// wrap ErrSchema.
func (r *Regressor) UnmarshalBinary(data []byte) error {
	b, err := unmarshalBlend(data, false)
	if err != nil {
		return err
	}
	r.b = b
	return nil
}

// CheckSchema refuses feature names other than the model's, naming the
// first difference: a row built for other features would be scored
// without any error, and wrongly.
func CheckSchema(model, rows []string) error {
	if err := schema.Compare(model, rows, "model", "rows"); err != nil {
		return fmt.Errorf("%w: %w", ErrSchema, err)
	}
	return nil
}
