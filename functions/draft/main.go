// Command draft is the collection cycle's Draft step: Bedrock (the model
// in RECOUP_BEDROCK_MODEL_ID) drafts under the deterministic guardrails,
// and a vetted template replaces a draft that fails twice. See
// shared/cycle (DraftStep) and shared/drafting.
package main

import (
	"context"
	"fmt"
	"strconv"

	"github.com/aws/aws-lambda-go/lambda"
	"github.com/aws/aws-sdk-go-v2/service/bedrockruntime"

	"github.com/recoup-dev/recoup/functions/internal/wire"
	"github.com/recoup-dev/recoup/shared/cycle"
	"github.com/recoup-dev/recoup/shared/drafting"
	"github.com/recoup-dev/recoup/shared/llm/bedrock"
)

func main() {
	ctx := context.Background()
	env := wire.Must(wire.Load(ctx))
	d := &cycle.DraftStep{
		Accounts: wire.Must(env.Ledger()),
		Profiles: wire.Must(env.Profiles()),
		Drafter:  wire.Must(drafter(env)),
	}
	lambda.Start(d.Draft)
}

// drafter reads the model id and its price (RECOUP_BEDROCK_PRICE_IN and
// _OUT: millionths of a dollar per 1,000 tokens; Amazon Nova Micro's when
// unset).
func drafter(env *wire.Env) (*drafting.Drafter, error) {
	id, err := env.Required("RECOUP_BEDROCK_MODEL_ID", "the Bedrock model that drafts")
	if err != nil {
		return nil, err
	}
	price := drafting.Price{InputMicroUSDPer1K: 35, OutputMicroUSDPer1K: 140}
	for name, dst := range map[string]*int64{"RECOUP_BEDROCK_PRICE_IN": &price.InputMicroUSDPer1K, "RECOUP_BEDROCK_PRICE_OUT": &price.OutputMicroUSDPer1K} {
		if v := env.Getenv(name); v != "" {
			if *dst, err = strconv.ParseInt(v, 10, 64); err != nil || *dst < 0 {
				return nil, fmt.Errorf("%s=%q is not a whole number of millionths of a dollar", name, v)
			}
		}
	}
	m, err := bedrock.New(bedrockruntime.NewFromConfig(env.AWS), id)
	if err != nil {
		return nil, err
	}
	return drafting.NewDrafter(m, drafting.Config{Price: price})
}
