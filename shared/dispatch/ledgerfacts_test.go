package dispatch

import (
	"slices"
	"testing"

	"github.com/recoup-dev/recoup/shared/compliance"
)

func TestDisclosuresForVoice(t *testing.T) {
	for _, tc := range []struct {
		ch   compliance.Channel
		want []compliance.Disclosure
		not  []compliance.Disclosure
	}{
		{compliance.ChannelCall, []compliance.Disclosure{compliance.DisclosureCallerIdentity, compliance.DisclosureCallbackNumber}, nil},
		// TCPA-IDENTIFICATION blocks an artificial voice without them.
		{compliance.ChannelAIVoice, []compliance.Disclosure{compliance.DisclosureCallerIdentity, compliance.DisclosureCallbackNumber}, nil},
		{compliance.ChannelSMS, []compliance.Disclosure{compliance.DisclosureOptOut}, []compliance.Disclosure{compliance.DisclosureCallbackNumber}},
		{compliance.ChannelLetter, []compliance.Disclosure{compliance.DisclosureMiniMiranda}, []compliance.Disclosure{compliance.DisclosureOptOut}},
	} {
		got := Disclosures(tc.ch)
		for _, d := range tc.want {
			if !slices.Contains(got, d) {
				t.Errorf("Disclosures(%s) = %v, lacks %s", tc.ch, got, d)
			}
		}
		for _, d := range tc.not {
			if slices.Contains(got, d) {
				t.Errorf("Disclosures(%s) = %v, has %s", tc.ch, got, d)
			}
		}
	}
}
