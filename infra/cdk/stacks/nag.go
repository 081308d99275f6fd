package stacks

import (
	"fmt"
	"sort"
	"strings"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/cxapi"
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

// Findings lists the unsuppressed cdk-nag errors and warnings in a
// synthesised assembly, as "<stack> <construct path>: <rule and text>",
// sorted. `make synth` fails when there is any.
func Findings(asm cxapi.CloudAssembly) []string {
	var out []string
	for _, st := range *asm.StacksRecursively() {
		for _, m := range *st.Messages() {
			if m.Level != cxapi.SynthesisMessageLevel_ERROR && m.Level != cxapi.SynthesisMessageLevel_WARNING {
				continue
			}
			text := fmt.Sprint(m.Entry.Data)
			if !strings.HasPrefix(text, "AwsSolutions-") && !strings.HasPrefix(text, "PCI.DSS.321-") {
				continue
			}
			out = append(out, fmt.Sprintf("%s %s: %s", *st.StackName(), *m.Id, text))
		}
	}
	sort.Strings(out)
	return out
}
