// Package statemachine holds Recoup's Amazon States Language definitions:
// the collection cycle of one customer and the daily run over a tenant's
// worklist. The same files are deployed by the CDK app through definition
// substitutions and run locally by aws-local-stepfunctions; Substitute is
// how both fill in the ${Name} placeholders (function ARNs).
package statemachine

import (
	"embed"
	"fmt"
	"regexp"
	"slices"
	"strings"
)

//go:embed *.asl.json
var files embed.FS

// Names of the definitions, as Definition takes them.
const (
	Cycle = "cycle"
	Daily = "daily"
)

// Names lists every definition.
var Names = []string{Cycle, Daily}

// Definition returns a definition's raw text, placeholders unfilled.
func Definition(name string) (string, error) {
	b, err := files.ReadFile(name + ".asl.json")
	if err != nil {
		return "", fmt.Errorf("statemachine: no definition %q (have %s)", name, strings.Join(Names, ", "))
	}
	return string(b), nil
}

var placeholder = regexp.MustCompile(`\$\{([A-Za-z][A-Za-z0-9]*)\}`)

// Placeholders are the ${Name} placeholders of a definition, sorted.
func Placeholders(def string) []string {
	var out []string
	for _, m := range placeholder.FindAllStringSubmatch(def, -1) {
		out = append(out, m[1])
	}
	slices.Sort(out)
	return slices.Compact(out)
}

// Substitute fills every placeholder of def from values, as CloudFormation
// does with DefinitionSubstitutions. A placeholder with no value, or a
// value no placeholder uses, is an error: either would deploy a machine
// that calls the wrong function or none.
func Substitute(def string, values map[string]string) (string, error) {
	names := Placeholders(def)
	var missing, unused []string
	for _, n := range names {
		if values[n] == "" {
			missing = append(missing, n)
		}
	}
	for n := range values {
		if !slices.Contains(names, n) {
			unused = append(unused, n)
		}
	}
	slices.Sort(unused)
	if len(missing) > 0 || len(unused) > 0 {
		return "", fmt.Errorf("statemachine: substitutions: missing %v, unused %v", missing, unused)
	}
	return placeholder.ReplaceAllStringFunc(def, func(m string) string {
		return values[placeholder.FindStringSubmatch(m)[1]]
	}), nil
}

// LambdaARN is the ARN of a function named name in region and account,
// the form a Task state's Resource takes.
func LambdaARN(region, account, name string) string {
	return fmt.Sprintf("arn:aws:lambda:%s:%s:function:%s", region, account, name)
}
