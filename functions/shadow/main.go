// Command shadow is the collection cycle's Shadow step (pilot mode): it
// records the plan and draft beside what the team actually does, for the
// agreement report; nothing is sent. See shared/shadow.
package main

import (
	"context"

	"github.com/aws/aws-lambda-go/lambda"

	"github.com/recoup-dev/recoup/functions/internal/wire"
	"github.com/recoup-dev/recoup/shared/shadow"
	"github.com/recoup-dev/recoup/shared/store/dynamo"
)

func main() {
	env := wire.Must(wire.Load(context.Background()))
	store := wire.Must(dynamo.NewShadow(env.DB, env.Prefix))
	r := wire.Must(shadow.NewRecorder(store, env.Now))
	lambda.Start(r.Handle)
}
