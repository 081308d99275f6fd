package stacks

import (
	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/jsii-runtime-go"
	"github.com/cdklabs/cdk-nag-go/cdknag/v2"
)

// Check applies the AWS Solutions and PCI DSS 3.2.1 rule packs to every
// stack of app. Their findings are error annotations on the resources,
// which fail `cdk synth`; each suppression carries its reason beside the
// resource it concerns.
func Check(app awscdk.App) {
	verbose := &cdknag.NagPackProps{Verbose: jsii.Bool(true)}
	awscdk.Aspects_Of(app).Add(cdknag.NewAwsSolutionsChecks(verbose), nil)
	awscdk.Aspects_Of(app).Add(cdknag.NewPCIDSS321Checks(verbose), nil)
}
