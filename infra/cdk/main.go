// Command cdk is Recoup's CDK app: `make synth` writes the CloudFormation
// templates to infra/cdk/cdk.out offline, `make deploy` deploys them. A
// deployment serves one tenant; its parameters come from the context
// (stacks.Key*). Every stack is checked by cdk-nag's AWS Solutions and
// PCI DSS 3.2.1 packs; an unsuppressed finding fails synthesis.
package main

import (
	"fmt"
	"os"
	"strings"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/jsii-runtime-go"

	"github.com/recoup-dev/recoup/infra/cdk/stacks"
)

func main() { os.Exit(run()) }

func run() int {
	defer jsii.Close()
	app := awscdk.NewApp(nil)
	params, err := stacks.ParamsFromContext(func(key string) any { return app.Node().TryGetContext(jsii.String(key)) })
	if err == nil {
		err = stacks.CheckAssets(params.Dist, stacks.FunctionNames())
	}
	if err != nil {
		fmt.Fprintf(os.Stderr, "recoup cdk: cannot synthesise:\n%v\n", err)
		return 2
	}
	data := stacks.NewData(app, "RecoupData", nil)
	stacks.NewRecoup(app, "Recoup", &stacks.RecoupProps{Params: params, Data: data})
	stacks.Check(app)
	if findings := stacks.Findings(app.Synth(nil)); len(findings) > 0 {
		fmt.Fprintf(os.Stderr, "recoup cdk: %d unsuppressed cdk-nag findings:\n%s\n", len(findings), strings.Join(findings, "\n"))
		return 1
	}
	return 0
}
