// Command cdk is Recoup's CDK app: `make synth` writes the CloudFormation
// templates to infra/cdk/cdk.out offline, `make deploy` deploys them. Every
// stack is checked by cdk-nag's AWS Solutions and PCI DSS 3.2.1 packs; an
// unsuppressed finding fails synthesis.
package main

import (
	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/jsii-runtime-go"

	"github.com/recoup-dev/recoup/infra/cdk/stacks"
)

func main() {
	defer jsii.Close()
	app := awscdk.NewApp(nil)
	stacks.NewData(app, "RecoupData", nil)
	stacks.Check(app)
	app.Synth(nil)
}
