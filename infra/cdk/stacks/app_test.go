package stacks

// Tests of the synthesised application stack (appTmpl) and data stack
// (template) built once by TestMain in stacks_test.go. Most checks walk
// the templates as plain JSON: "every X has Y" reads more simply in Go
// than in assertion matchers, and a failure can name the resource.

import (
	"bytes"
	"encoding/json"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"reflect"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"
	"testing"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/assertions"
	"github.com/aws/jsii-runtime-go"

	"github.com/recoup-dev/recoup/infra/local"
	"github.com/recoup-dev/recoup/infra/local/lambdahost"
	"github.com/recoup-dev/recoup/infra/statemachine"
)

// repoRoot is the repository's root, seen from infra/cdk/stacks.
var repoRoot = filepath.Join("..", "..", "..")

// ---------------------------------------------------------------------
// Template helpers.

// cfn is one synthesised template as plain JSON.
type cfn struct {
	doc       map[string]any
	resources map[string]map[string]any
}

var (
	appOnce, dataOnce sync.Once
	appDoc, dataDoc   *cfn
)

func toCfn(tmpl assertions.Template) *cfn {
	b, err := json.Marshal(*tmpl.ToJSON())
	if err != nil {
		panic(err)
	}
	var doc map[string]any
	if err := json.Unmarshal(b, &doc); err != nil {
		panic(err)
	}
	c := &cfn{doc: doc, resources: map[string]map[string]any{}}
	rs, _ := doc["Resources"].(map[string]any)
	for id, r := range rs {
		c.resources[id] = r.(map[string]any)
	}
	return c
}

// appCfn is the application stack's template; dataCfn the data stack's.
func appCfn() *cfn  { appOnce.Do(func() { appDoc = toCfn(appTmpl) }); return appDoc }
func dataCfn() *cfn { dataOnce.Do(func() { dataDoc = toCfn(template) }); return dataDoc }

// ofType lists the resources of one type by logical id.
func (c *cfn) ofType(typ string) map[string]map[string]any {
	out := map[string]map[string]any{}
	for id, r := range c.resources {
		if r["Type"] == typ {
			out[id] = r
		}
	}
	return out
}

// sortedIDs is the logical ids of rs, sorted (stable failure output).
func sortedIDs(rs map[string]map[string]any) []string {
	ids := make([]string, 0, len(rs))
	for id := range rs {
		ids = append(ids, id)
	}
	sort.Strings(ids)
	return ids
}

// byProp is the logical id of the only resource of typ whose property key
// equals value, or "" (and a test error) when there is not exactly one.
func (c *cfn) byProp(t *testing.T, typ, key string, value any) string {
	t.Helper()
	var found []string
	for _, id := range sortedIDs(c.ofType(typ)) {
		if reflect.DeepEqual(props(c.resources[id])[key], value) {
			found = append(found, id)
		}
	}
	if len(found) != 1 {
		t.Errorf("%d %s with %s %v, want exactly one: %v", len(found), typ, key, value, found)
		return ""
	}
	return found[0]
}

func props(r map[string]any) map[string]any {
	p, _ := r["Properties"].(map[string]any)
	if p == nil {
		return map[string]any{}
	}
	return p
}

// get walks a JSON value by keys; nil when a step is missing.
func get(v any, path ...string) any {
	for _, k := range path {
		m, ok := v.(map[string]any)
		if !ok {
			return nil
		}
		v = m[k]
	}
	return v
}

// list is v as a list: CloudFormation accepts a single value where a list
// is expected (Action, Resource).
func list(v any) []any {
	switch x := v.(type) {
	case nil:
		return nil
	case []any:
		return x
	default:
		return []any{x}
	}
}

func strs(v any) []string {
	var out []string
	for _, x := range list(v) {
		out = append(out, fmt.Sprint(x))
	}
	return out
}

// render writes a CloudFormation value as a string with its intrinsics
// spelled out: {"Ref": X} is ${X}, {"Fn::GetAtt": [X, A]} is ${X.A},
// Fn::Join is joined, and Fn::ImportValue of the data stack's export is
// the rendered value the data stack exports, so a resource of either
// stack reads the same wherever it is referred to.
func render(v any) string {
	switch x := v.(type) {
	case string:
		return x
	case float64:
		return strconv.FormatFloat(x, 'f', -1, 64)
	case bool:
		return strconv.FormatBool(x)
	case []any:
		var parts []string
		for _, e := range x {
			parts = append(parts, render(e))
		}
		return "[" + strings.Join(parts, ",") + "]"
	case map[string]any:
		if len(x) == 1 {
			for k, a := range x {
				switch k {
				case "Ref":
					return "${" + render(a) + "}"
				case "Fn::GetAtt":
					return "${" + strings.Join(strs(a), ".") + "}"
				case "Fn::Join":
					args := list(a)
					if len(args) == 2 {
						var parts []string
						for _, e := range list(args[1]) {
							parts = append(parts, render(e))
						}
						return strings.Join(parts, render(args[0]))
					}
				case "Fn::ImportValue":
					name := render(a)
					if outs, ok := dataCfn().doc["Outputs"].(map[string]any); ok {
						for _, o := range outs {
							if get(o, "Export", "Name") == name {
								return render(get(o, "Value"))
							}
						}
					}
					return "${Import:" + name + "}"
				}
			}
		}
		b, _ := json.Marshal(x)
		return string(b)
	}
	return fmt.Sprint(v)
}

func ref(id string) string          { return "${" + id + "}" }
func att(id, attr string) string    { return "${" + id + "." + attr + "}" }
func isRefTo(v any, id string) bool { return id != "" && render(v) == ref(id) }

// deployedFunction is one AWS::Lambda::Function, by its folder name.
type deployedFunction struct {
	id    string
	props map[string]any
}

// functions maps each deployed function's name (FunctionName without
// "recoup-") to its resource.
func functions(t *testing.T) map[string]deployedFunction {
	t.Helper()
	out := map[string]deployedFunction{}
	for _, id := range sortedIDs(appCfn().ofType("AWS::Lambda::Function")) {
		p := props(appCfn().resources[id])
		fname, _ := p["FunctionName"].(string)
		name, ok := strings.CutPrefix(fname, "recoup-")
		if !ok {
			t.Errorf("function %s: FunctionName %q, want recoup-<name>", id, fname)
			continue
		}
		if prev, dup := out[name]; dup {
			t.Errorf("functions %s and %s are both named %q", prev.id, id, fname)
		}
		out[name] = deployedFunction{id: id, props: p}
	}
	return out
}

func keys[V any](m map[string]V) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

// diffSets names what want has that got lacks, and what got has extra.
func diffSets(got, want []string) string {
	var missing, extra []string
	for _, w := range want {
		if !slices.Contains(got, w) {
			missing = append(missing, w)
		}
	}
	for _, g := range got {
		if !slices.Contains(want, g) {
			extra = append(extra, g)
		}
	}
	if missing == nil && extra == nil {
		return ""
	}
	return fmt.Sprintf("missing %v, unexpected %v", missing, extra)
}

// assertNoPanic runs an assertions.Template check, which panics with the
// matcher's report on a mismatch, as a test error.
func assertNoPanic(t *testing.T, what string, check func()) {
	t.Helper()
	defer func() {
		if r := recover(); r != nil {
			t.Errorf("%s: %v", what, r)
		}
	}()
	check()
}

// functionFolders lists functions/<name>: every folder but internal.
func functionFolders(t *testing.T) []string {
	t.Helper()
	entries, err := os.ReadDir(filepath.Join(repoRoot, "functions"))
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, e := range entries {
		if e.IsDir() && e.Name() != "internal" {
			out = append(out, e.Name())
		}
	}
	sort.Strings(out)
	if len(out) == 0 {
		t.Fatal("no function folders under functions/")
	}
	return out
}

// ---------------------------------------------------------------------
// 1. Functions.

func TestFunctionPerFolder(t *testing.T) {
	folders := functionFolders(t)
	fns := functions(t)
	if d := diffSets(keys(fns), folders); d != "" {
		t.Errorf("deployed functions differ from the folders of functions/: %s", d)
	}
	if n := len(appCfn().ofType("AWS::Lambda::Function")); n != len(folders) {
		t.Errorf("%d AWS::Lambda::Function resources, want one per folder (%d)", n, len(folders))
	}
	if d := diffSets(FunctionNames(), folders); d != "" {
		t.Errorf("FunctionNames() differs from the folders of functions/: %s", d)
	}
}

func TestFunctionConfiguration(t *testing.T) {
	keyID := dataCfn().byProp(t, "AWS::KMS::Key", "Description",
		"Recoup: ledger, consent, contact history, audit log, engagement stream, queues and ERP credentials")
	fns := functions(t)
	logGroupOwner := map[string]string{}
	for _, name := range functionFolders(t) {
		t.Run(name, func(t *testing.T) {
			f, ok := fns[name]
			if !ok {
				t.Fatalf("no function recoup-%s", name)
			}
			p := f.props
			checks := []struct {
				what      string
				got, want any
			}{
				{"FunctionName", p["FunctionName"], "recoup-" + name},
				{"Architectures", p["Architectures"], []any{"arm64"}},
				{"Runtime", p["Runtime"], "provided.al2023"},
				{"Handler", p["Handler"], "bootstrap"},
				{"TracingConfig.Mode", get(p, "TracingConfig", "Mode"), "Active"},
				{"LoggingConfig.LogFormat", get(p, "LoggingConfig", "LogFormat"), "JSON"},
				{"Environment RECOUP_TENANT", get(p, "Environment", "Variables", "RECOUP_TENANT"), testTenant},
				{"KmsKeyArn (environment encryption)", render(p["KmsKeyArn"]), att(keyID, "Arn")},
			}
			for _, c := range checks {
				if !reflect.DeepEqual(c.got, c.want) {
					t.Errorf("%s = %#v, want %#v", c.what, c.got, c.want)
				}
			}
			// Its own log group, retained, with a name CloudFormation makes
			// up (a fixed one would block a deploy after a destroy).
			lg := render(get(p, "LoggingConfig", "LogGroup"))
			id := strings.TrimSuffix(strings.TrimPrefix(lg, "${"), "}")
			r, ok := appCfn().resources[id]
			if !ok || r["Type"] != "AWS::Logs::LogGroup" {
				t.Fatalf("LoggingConfig.LogGroup %s is not a log group of the stack", lg)
			}
			if got := props(r)["LogGroupName"]; got != nil {
				t.Errorf("log group name %v, want none (CloudFormation's)", got)
			}
			if r["DeletionPolicy"] != "Retain" {
				t.Errorf("log group %s: DeletionPolicy %v, want Retain", id, r["DeletionPolicy"])
			}
			if other, shared := logGroupOwner[id]; shared {
				t.Errorf("log group %s is also %s's", id, other)
			}
			logGroupOwner[id] = name
		})
	}
}

// asyncFunctions are invoked asynchronously (EventBridge): their failed
// events must land in a dead-letter queue.
var asyncFunctions = []string{"train", "webhooks"}

func TestAsyncFunctionsDeadLetter(t *testing.T) {
	fns := functions(t)
	dlq := functionDLQ()
	invokeConfigs := appCfn().ofType("AWS::Lambda::EventInvokeConfig")
	for _, name := range asyncFunctions {
		f, ok := fns[name]
		if !ok {
			t.Errorf("no function %s", name)
			continue
		}
		if got := render(get(f.props, "DeadLetterConfig", "TargetArn")); got != att(dlq, "Arn") {
			t.Errorf("%s: DeadLetterConfig.TargetArn = %s, want the function DLQ %s", name, got, att(dlq, "Arn"))
		}
		n := 0
		for _, ic := range invokeConfigs {
			if isRefTo(props(ic)["FunctionName"], f.id) {
				n++
			}
		}
		if n != 1 {
			t.Errorf("%s: %d AWS::Lambda::EventInvokeConfig, want 1", name, n)
		}
	}
	// Whatever EventBridge invokes is asynchronous and must be declared so.
	for _, id := range sortedIDs(appCfn().ofType("AWS::Events::Rule")) {
		for _, tg := range list(props(appCfn().resources[id])["Targets"]) {
			for name, f := range fns {
				if render(get(tg, "Arn")) == att(f.id, "Arn") && !slices.Contains(asyncFunctions, name) {
					t.Errorf("rule %s invokes %s, which has no dead-letter queue of its own", id, name)
				}
			}
		}
	}
}

func TestEventBridgeTargetsHaveDLQ(t *testing.T) {
	rules := appCfn().ofType("AWS::Events::Rule")
	if len(rules) == 0 {
		t.Fatal("no EventBridge rules")
	}
	dlq := functionDLQ()
	for _, id := range sortedIDs(rules) {
		targets := list(props(rules[id])["Targets"])
		if len(targets) == 0 {
			t.Errorf("rule %s has no targets", id)
		}
		for _, tg := range targets {
			if got := render(get(tg, "DeadLetterConfig", "Arn")); got != att(dlq, "Arn") {
				t.Errorf("rule %s target %s: DeadLetterConfig.Arn = %s, want %s", id, render(get(tg, "Arn")), got, att(dlq, "Arn"))
			}
			if get(tg, "RetryPolicy") == nil {
				t.Errorf("rule %s target %s has no RetryPolicy", id, render(get(tg, "Arn")))
			}
		}
	}
}

// ---------------------------------------------------------------------
// 2. Parity with the local stack (infra/local/lambdahost.json).

func localConfig(t *testing.T) *lambdahost.Config {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(repoRoot, "infra", "local", "lambdahost.json"))
	if err != nil {
		t.Fatal(err)
	}
	cfg, err := lambdahost.ParseConfig(b, repoRoot)
	if err != nil {
		t.Fatal(err)
	}
	return cfg
}

func TestTimeoutsMatchLocalStack(t *testing.T) {
	cfg := localConfig(t)
	fns := functions(t)
	if len(cfg.Functions) == 0 {
		t.Fatal("lambdahost.json lists no functions")
	}
	for _, lf := range cfg.Functions {
		f, ok := fns[lf.Name]
		if !ok {
			t.Errorf("lambdahost.json runs %s, which is not deployed", lf.Name)
			continue
		}
		if got := f.props["Timeout"]; got != float64(lf.TimeoutSeconds) {
			t.Errorf("%s: deployed Timeout %v, lambdahost.json timeout_seconds %d", lf.Name, got, lf.TimeoutSeconds)
		}
	}
}

func TestEventSourceMappingsMatchLocalStack(t *testing.T) {
	cfg := localConfig(t)
	fns := functions(t)
	mappings := appCfn().ofType("AWS::Lambda::EventSourceMapping")
	// The mapping of fn whose source renders to source.
	mappingFor := func(fn, source string) map[string]any {
		t.Helper()
		var found []map[string]any
		for _, id := range sortedIDs(mappings) {
			p := props(mappings[id])
			if isRefTo(p["FunctionName"], fns[fn].id) && render(p["EventSourceArn"]) == source {
				found = append(found, p)
			}
		}
		if len(found) != 1 {
			t.Fatalf("%d event source mappings from %s to %s, want 1", len(found), source, fn)
		}
		return found[0]
	}
	var sawStream, sawQueue bool
	for _, m := range cfg.EventSourceMappings {
		switch {
		case m.StreamName != "":
			sawStream = true
			t.Run("kinesis-"+m.Function, func(t *testing.T) {
				stream := dataCfn().byProp(t, "AWS::Kinesis::Stream", "Name", m.StreamName)
				p := mappingFor(m.Function, att(stream, "Arn"))
				checks := []struct {
					what      string
					got, want any
				}{
					{"BatchSize", p["BatchSize"], float64(m.BatchSize)},
					{"BisectBatchOnFunctionError", p["BisectBatchOnFunctionError"], m.BisectBatchOnFunctionError},
					{"MaximumRetryAttempts", p["MaximumRetryAttempts"], float64(m.RetryAttempts())},
					{"StartingPosition", p["StartingPosition"], m.StartingPosition},
					{"ReportBatchItemFailures", slices.Contains(strs(p["FunctionResponseTypes"]), "ReportBatchItemFailures"), m.ReportsBatchItemFailures()},
				}
				for _, c := range checks {
					if !reflect.DeepEqual(c.got, c.want) {
						t.Errorf("%s: deployed %#v, lambdahost.json %#v", c.what, c.got, c.want)
					}
				}
				if m.StartingPosition != "TRIM_HORIZON" || !m.ReportsBatchItemFailures() {
					t.Errorf("lambdahost.json: starting position %q, ReportBatchItemFailures %v; the design wants TRIM_HORIZON and partial batch responses",
						m.StartingPosition, m.ReportsBatchItemFailures())
				}
				dest := get(p, "DestinationConfig", "OnFailure", "Destination")
				if dest == nil {
					t.Fatal("no DestinationConfig.OnFailure: batches failing after their retries would be lost")
				}
				if m.OnFailureQueue != "" {
					q := dataCfn().byProp(t, "AWS::SQS::Queue", "QueueName", m.OnFailureQueue)
					if got := render(dest); got != att(q, "Arn") {
						t.Errorf("on-failure destination %s, want the queue %s (%s)", got, m.OnFailureQueue, att(q, "Arn"))
					}
				}
			})
		case m.QueueName != "":
			sawQueue = true
			t.Run("sqs-"+m.Function, func(t *testing.T) {
				queue := dataCfn().byProp(t, "AWS::SQS::Queue", "QueueName", m.QueueName)
				p := mappingFor(m.Function, att(queue, "Arn"))
				checks := []struct {
					what      string
					got, want any
				}{
					{"BatchSize", p["BatchSize"], float64(m.BatchSize)},
					{"ScalingConfig.MaximumConcurrency", get(p, "ScalingConfig", "MaximumConcurrency"), float64(m.MaximumConcurrency)},
					{"ReportBatchItemFailures", slices.Contains(strs(p["FunctionResponseTypes"]), "ReportBatchItemFailures"), m.ReportsBatchItemFailures()},
				}
				for _, c := range checks {
					if !reflect.DeepEqual(c.got, c.want) {
						t.Errorf("%s: deployed %#v, lambdahost.json %#v", c.what, c.got, c.want)
					}
				}
			})
		}
	}
	if !sawStream || !sawQueue {
		t.Errorf("lambdahost.json: stream mapping %v, queue mapping %v; want both", sawStream, sawQueue)
	}
	if n := len(mappings); n != len(cfg.EventSourceMappings) {
		t.Errorf("%d event source mappings deployed, lambdahost.json has %d", n, len(cfg.EventSourceMappings))
	}
}

// ---------------------------------------------------------------------
// 3. IAM least privilege.

// statement is one IAM policy statement with where it comes from.
type statement struct {
	where     string   // template and policy logical id
	roles     []string // logical ids of the roles it applies to
	effect    string
	actions   []string
	notAction bool
	resources []string // rendered
	condition any
}

// iamStatements lists the statements of every AWS::IAM::Policy,
// AWS::IAM::ManagedPolicy and inline role policy of both stacks.
func iamStatements() []statement {
	var out []statement
	add := func(where string, roles []string, doc any) {
		for _, s := range list(get(doc, "Statement")) {
			st := statement{where: where, roles: roles, effect: fmt.Sprint(get(s, "Effect")),
				actions: strs(get(s, "Action")), condition: get(s, "Condition")}
			if get(s, "NotAction") != nil {
				st.notAction = true
				st.actions = append(st.actions, strs(get(s, "NotAction"))...)
			}
			for _, r := range list(get(s, "Resource")) {
				st.resources = append(st.resources, render(r))
			}
			if get(s, "NotResource") != nil {
				st.resources = append(st.resources, "*")
			}
			out = append(out, st)
		}
	}
	for stack, c := range map[string]*cfn{"Recoup": appCfn(), "RecoupData": dataCfn()} {
		for _, typ := range []string{"AWS::IAM::Policy", "AWS::IAM::ManagedPolicy"} {
			rs := c.ofType(typ)
			for _, id := range sortedIDs(rs) {
				var roles []string
				for _, r := range list(props(rs[id])["Roles"]) {
					roles = append(roles, strings.TrimSuffix(strings.TrimPrefix(render(r), "${"), "}"))
				}
				add(stack+"/"+id, roles, props(rs[id])["PolicyDocument"])
			}
		}
		rs := c.ofType("AWS::IAM::Role")
		for _, id := range sortedIDs(rs) {
			for _, p := range list(props(rs[id])["Policies"]) {
				add(stack+"/"+id+"/"+fmt.Sprint(get(p, "PolicyName")), []string{id}, get(p, "PolicyDocument"))
			}
		}
	}
	return out
}

func allows() []statement {
	var out []statement
	for _, s := range iamStatements() {
		if s.effect == "Allow" {
			out = append(out, s)
		}
	}
	return out
}

// roleOf is the logical id of a function's role.
func roleOf(t *testing.T, fns map[string]deployedFunction, name string) string {
	t.Helper()
	f, ok := fns[name]
	if !ok {
		t.Fatalf("no function %s", name)
	}
	role := strs(get(f.props, "Role", "Fn::GetAtt"))
	if len(role) != 2 || role[1] != "Arn" {
		t.Fatalf("%s: Role %v is not a role of the stack", name, render(f.props["Role"]))
	}
	return role[0]
}

// roleAllows lists the Allow statements applying to a role.
func roleAllows(role string) []statement {
	var out []statement
	for _, s := range allows() {
		if slices.Contains(s.roles, role) {
			out = append(out, s)
		}
	}
	return out
}

// grants reports whether action (such as "sqs:SendMessage") is among
// actions, literally or by a wildcard.
func grants(actions []string, action string) bool {
	for _, a := range actions {
		pattern := "^" + strings.ReplaceAll(regexp.QuoteMeta(strings.ToLower(a)), `\*`, ".*") + "$"
		if regexp.MustCompile(pattern).MatchString(strings.ToLower(action)) {
			return true
		}
	}
	return false
}

// starResourceActions may be granted on "*": they accept no resource-level
// permission (X-Ray, and CloudWatch Logs' vended log delivery, which Step
// Functions logging needs).
var starResourceActions = []string{
	"xray:PutTraceSegments", "xray:PutTelemetryRecords", "xray:GetSamplingRules", "xray:GetSamplingTargets",
	"logs:CreateLogDelivery", "logs:GetLogDelivery", "logs:UpdateLogDelivery", "logs:DeleteLogDelivery",
	"logs:ListLogDeliveries", "logs:PutResourcePolicy", "logs:DescribeResourcePolicies", "logs:DescribeLogGroups",
}

func TestIAMLeastPrivilege(t *testing.T) {
	all := allows()
	if len(all) == 0 {
		t.Fatal("no IAM Allow statements found")
	}
	leading := map[string]any{"ForAllValues:StringLike": map[string]any{"dynamodb:LeadingKeys": []any{"T#" + testTenant + "#*"}}}
	for _, s := range all {
		if s.notAction {
			t.Errorf("%s: Allow with NotAction %v grants everything else", s.where, s.actions)
		}
		hasDynamo := false
		for _, a := range s.actions {
			if strings.Contains(a, "*") {
				t.Errorf("%s: Allow of wildcard action %q", s.where, a)
			}
			if strings.EqualFold(a, "dynamodb:Scan") {
				t.Errorf("%s: Allow of dynamodb:Scan (a scan has no leading key to confine)", s.where)
			}
			if strings.HasPrefix(strings.ToLower(a), "dynamodb:") {
				hasDynamo = true
			}
		}
		if hasDynamo && !reflect.DeepEqual(s.condition, leading) {
			t.Errorf("%s: DynamoDB actions %v with Condition %s, want exactly %s", s.where, s.actions, render(s.condition), render(leading))
		}
		if slices.Contains(s.resources, "*") {
			for _, a := range s.actions {
				if !slices.Contains(starResourceActions, a) {
					t.Errorf("%s: %s allowed on Resource \"*\"", s.where, a)
				}
			}
		}
	}
}

func TestWritebackQueueAccess(t *testing.T) {
	fns := functions(t)
	role := roleOf(t, fns, "writeback")
	writeback := dataCfn().byProp(t, "AWS::SQS::Queue", "QueueName", local.WritebackQueue)
	rejects := dataCfn().byProp(t, "AWS::SQS::Queue", "QueueName", local.WritebackRejects)
	var sendTo, consumeFrom []string
	for _, s := range roleAllows(role) {
		if grants(s.actions, "sqs:SendMessage") {
			sendTo = append(sendTo, s.resources...)
		}
		if grants(s.actions, "sqs:ReceiveMessage") && grants(s.actions, "sqs:DeleteMessage") {
			consumeFrom = append(consumeFrom, s.resources...)
		}
	}
	if want := []string{att(rejects, "Arn")}; !reflect.DeepEqual(sendTo, want) {
		t.Errorf("writeback may SendMessage to %v, want only the rejects queue %v", sendTo, want)
	}
	if want := []string{att(writeback, "Arn")}; !reflect.DeepEqual(consumeFrom, want) {
		t.Errorf("writeback may consume %v, want the write-back queue %v", consumeFrom, want)
	}
}

func TestDraftInvokesOnlyTheModel(t *testing.T) {
	fns := functions(t)
	draft := roleOf(t, fns, "draft")
	var resources []string
	for _, s := range allows() {
		var bedrock []string
		for _, a := range s.actions {
			if strings.HasPrefix(strings.ToLower(a), "bedrock:") {
				bedrock = append(bedrock, a)
			}
		}
		if len(bedrock) == 0 {
			continue
		}
		if !reflect.DeepEqual(s.roles, []string{draft}) {
			t.Errorf("%s: Bedrock actions %v for roles %v, want the draft function's role only", s.where, bedrock, s.roles)
		}
		if !reflect.DeepEqual(bedrock, []string{"bedrock:InvokeModel"}) {
			t.Errorf("%s: Bedrock actions %v, want bedrock:InvokeModel only", s.where, bedrock)
		}
		resources = append(resources, s.resources...)
	}
	if len(resources) == 0 {
		t.Fatal("the draft function may not invoke any model")
	}
	for _, r := range resources {
		if !strings.HasSuffix(r, "foundation-model/"+params.ModelID) || !strings.Contains(r, ":bedrock:") {
			t.Errorf("bedrock:InvokeModel on %s, want only the foundation model ...foundation-model/%s", r, params.ModelID)
		}
	}
}

func TestOnlyERPFunctionsReadTheSecret(t *testing.T) {
	fns := functions(t)
	want := []string{roleOf(t, fns, "ingest"), roleOf(t, fns, "writeback")}
	sort.Strings(want)
	var got []string
	for _, s := range allows() {
		if grants(s.actions, "secretsmanager:GetSecretValue") {
			for _, r := range s.roles {
				if !slices.Contains(got, r) {
					got = append(got, r)
				}
			}
			if len(s.roles) == 0 {
				got = append(got, s.where)
			}
		}
	}
	sort.Strings(got)
	if !reflect.DeepEqual(got, want) {
		t.Errorf("secretsmanager:GetSecretValue is granted to %v, want only the ingest and writeback roles %v", got, want)
	}
}

// ---------------------------------------------------------------------
// 4. Orchestration.

func TestStateMachines(t *testing.T) {
	machines := appCfn().ofType("AWS::StepFunctions::StateMachine")
	if len(machines) != len(statemachine.Names) {
		t.Errorf("%d state machines, want %d (%v)", len(machines), len(statemachine.Names), statemachine.Names)
	}
	fns := functions(t)
	for _, name := range statemachine.Names {
		t.Run(name, func(t *testing.T) {
			id := appCfn().byProp(t, "AWS::StepFunctions::StateMachine", "StateMachineName", "recoup-"+name)
			if id == "" {
				t.FailNow()
			}
			p := props(machines[id])
			checks := []struct {
				what      string
				got, want any
			}{
				{"LoggingConfiguration.Level", get(p, "LoggingConfiguration", "Level"), "ALL"},
				{"LoggingConfiguration.IncludeExecutionData", get(p, "LoggingConfiguration", "IncludeExecutionData"), false},
				{"TracingConfiguration.Enabled", get(p, "TracingConfiguration", "Enabled"), true},
			}
			for _, c := range checks {
				if !reflect.DeepEqual(c.got, c.want) {
					t.Errorf("%s = %#v, want %#v", c.what, c.got, c.want)
				}
			}
			if len(list(get(p, "LoggingConfiguration", "Destinations"))) == 0 {
				t.Error("LoggingConfiguration has no destination")
			}
			def, err := statemachine.Definition(name)
			if err != nil {
				t.Fatal(err)
			}
			if p["DefinitionString"] != def {
				t.Error("DefinitionString is not the repository's ASL verbatim")
			}
			subs, _ := p["DefinitionSubstitutions"].(map[string]any)
			placeholders := statemachine.Placeholders(def)
			if len(placeholders) == 0 {
				t.Fatalf("%s.asl.json has no placeholders", name)
			}
			if got := keys(subs); !reflect.DeepEqual(got, placeholders) {
				t.Errorf("DefinitionSubstitutions keys %v, want the ASL's placeholders %v (%s)", got, placeholders, diffSets(got, placeholders))
			}
			// ${ScoreFunctionArn} is the score function's ARN, and so on.
			for _, ph := range placeholders {
				fname := strings.ToLower(strings.TrimSuffix(ph, "FunctionArn"))
				f, ok := fns[fname]
				if !ok {
					t.Errorf("placeholder ${%s} names no deployed function", ph)
					continue
				}
				if got := render(subs[ph]); got != att(f.id, "Arn") {
					t.Errorf("${%s} = %s, want %s", ph, got, att(f.id, "Arn"))
				}
			}
		})
	}
}

// ---------------------------------------------------------------------
// 5. API.

// apiPath is the path of an AWS::ApiGateway::Resource ("" for the root).
func apiPath(t *testing.T, resourceID any) string {
	t.Helper()
	if strs(get(resourceID, "Fn::GetAtt")) != nil && strings.HasSuffix(render(resourceID), ".RootResourceId}") {
		return ""
	}
	id := strings.TrimSuffix(strings.TrimPrefix(render(resourceID), "${"), "}")
	r, ok := appCfn().resources[id]
	if !ok || r["Type"] != "AWS::ApiGateway::Resource" {
		t.Fatalf("%s is not an API resource", render(resourceID))
	}
	return apiPath(t, props(r)["ParentId"]) + "/" + fmt.Sprint(props(r)["PathPart"])
}

func TestAPIMethods(t *testing.T) {
	apis := appCfn().ofType("AWS::ApiGateway::RestApi")
	if len(apis) != 1 {
		t.Fatalf("%d REST APIs, want 1", len(apis))
	}
	methods := map[string]map[string]any{}
	for _, id := range sortedIDs(appCfn().ofType("AWS::ApiGateway::Method")) {
		p := props(appCfn().resources[id])
		methods[fmt.Sprint(p["HttpMethod"])+" "+apiPath(t, p["ResourceId"])] = p
	}
	want := map[string]string{
		"GET /approvals":                "COGNITO_USER_POOLS",
		"GET /approvals/{id}":           "COGNITO_USER_POOLS",
		"POST /approvals/{id}/decision": "COGNITO_USER_POOLS",
		"POST /imports":                 "AWS_IAM",
		"POST /webhooks/ses":            "NONE",
		"POST /webhooks/sms":            "NONE",
		"POST /webhooks/connect":        "NONE",
	}
	got := map[string]string{}
	for route, p := range methods {
		got[route] = fmt.Sprint(p["AuthorizationType"])
	}
	if d := diffSets(keys(got), keys(want)); d != "" {
		t.Errorf("API routes: %s", d)
	}
	for _, route := range keys(want) {
		if g, ok := got[route]; ok && g != want[route] {
			t.Errorf("%s: AuthorizationType %s, want %s", route, g, want[route])
		}
	}
	pool := appCfn().byProp(t, "AWS::Cognito::UserPool", "UserPoolName", "recoup-collectors")
	for route, auth := range want {
		p, ok := methods[route]
		if !ok {
			continue
		}
		if auth != "COGNITO_USER_POOLS" {
			if p["AuthorizerId"] != nil {
				t.Errorf("%s: %s method with an authorizer", route, auth)
			}
			continue
		}
		authorizer := strings.TrimSuffix(strings.TrimPrefix(render(p["AuthorizerId"]), "${"), "}")
		a, ok := appCfn().resources[authorizer]
		if !ok || a["Type"] != "AWS::ApiGateway::Authorizer" {
			t.Errorf("%s: AuthorizerId %s is not an authorizer", route, render(p["AuthorizerId"]))
			continue
		}
		if ap := props(a); ap["Type"] != "COGNITO_USER_POOLS" || !slices.Contains(strs(renderAll(ap["ProviderARNs"])), att(pool, "Arn")) {
			t.Errorf("%s: authorizer %s is %v over %v, want COGNITO_USER_POOLS over the collectors' pool", route, authorizer, ap["Type"], render(ap["ProviderARNs"]))
		}
	}
	// Imports: IAM, validated against the model, which admits the tenant only.
	if p, ok := methods["POST /imports"]; ok {
		validator := strings.TrimSuffix(strings.TrimPrefix(render(p["RequestValidatorId"]), "${"), "}")
		if v, ok := appCfn().resources[validator]; !ok || get(v, "Properties", "ValidateRequestBody") != true {
			t.Errorf("POST /imports: RequestValidatorId %s does not validate the body", render(p["RequestValidatorId"]))
		}
		model := strings.TrimSuffix(strings.TrimPrefix(render(get(p, "RequestModels", "application/json")), "${"), "}")
		m, ok := appCfn().resources[model]
		if !ok || m["Type"] != "AWS::ApiGateway::Model" {
			t.Fatalf("POST /imports: request model %s is not a model", model)
		}
		if got := get(props(m), "Schema", "properties", "tenant", "enum"); !reflect.DeepEqual(got, []any{testTenant}) {
			t.Errorf("POST /imports: the model's tenant enum is %v, want [%s]", got, testTenant)
		}
		if !slices.Contains(strs(get(props(m), "Schema", "required")), "tenant") {
			t.Error("POST /imports: the model does not require the tenant")
		}
	}
}

func renderAll(v any) []any {
	var out []any
	for _, e := range list(v) {
		out = append(out, render(e))
	}
	return out
}

func TestAPIStage(t *testing.T) {
	stages := appCfn().ofType("AWS::ApiGateway::Stage")
	if len(stages) != 1 {
		t.Fatalf("%d stages, want 1", len(stages))
	}
	stageID := sortedIDs(stages)[0]
	p := props(stages[stageID])
	if p["TracingEnabled"] != true {
		t.Errorf("stage TracingEnabled = %v, want true", p["TracingEnabled"])
	}
	if render(get(p, "AccessLogSetting", "DestinationArn")) == "" || get(p, "AccessLogSetting", "DestinationArn") == nil {
		t.Error("stage has no AccessLogSetting.DestinationArn")
	}
	settings := list(p["MethodSettings"])
	throttled := false
	for _, s := range settings {
		rate, _ := get(s, "ThrottlingRateLimit").(float64)
		burst, _ := get(s, "ThrottlingBurstLimit").(float64)
		if rate > 0 && burst > 0 {
			throttled = true
		}
		if get(s, "DataTraceEnabled") != false {
			t.Errorf("method setting %s: DataTraceEnabled = %v, want false (bodies hold personal data)", render(s), get(s, "DataTraceEnabled"))
		}
	}
	if !throttled {
		t.Errorf("no method setting throttles (rate and burst limits): %s", render(p["MethodSettings"]))
	}

	// WAF in front of the stage, logging.
	acls := appCfn().ofType("AWS::WAFv2::WebACL")
	if len(acls) != 1 {
		t.Fatalf("%d WAF web ACLs, want 1", len(acls))
	}
	acl := sortedIDs(acls)[0]
	api := sortedIDs(appCfn().ofType("AWS::ApiGateway::RestApi"))[0]
	associated := false
	for _, a := range appCfn().ofType("AWS::WAFv2::WebACLAssociation") {
		arn := render(props(a)["ResourceArn"])
		if render(props(a)["WebACLArn"]) == att(acl, "Arn") && strings.Contains(arn, ref(api)) && strings.Contains(arn, "/stages/"+ref(stageID)) {
			associated = true
		}
	}
	if !associated {
		t.Errorf("no WAFv2 WebACLAssociation of %s with stage %s", acl, stageID)
	}
	logged := false
	for _, l := range appCfn().ofType("AWS::WAFv2::LoggingConfiguration") {
		if render(props(l)["ResourceArn"]) == att(acl, "Arn") && len(list(props(l)["LogDestinationConfigs"])) > 0 {
			logged = true
		}
	}
	if !logged {
		t.Errorf("no WAFv2 LoggingConfiguration for %s", acl)
	}
}

func TestCognito(t *testing.T) {
	pools := appCfn().ofType("AWS::Cognito::UserPool")
	if len(pools) != 1 {
		t.Fatalf("%d user pools, want 1", len(pools))
	}
	pool := sortedIDs(pools)[0]
	p := props(pools[pool])
	if p["MfaConfiguration"] != "ON" {
		t.Errorf("MfaConfiguration = %v, want ON", p["MfaConfiguration"])
	}
	if get(p, "AdminCreateUserConfig", "AllowAdminCreateUserOnly") != true {
		t.Errorf("AdminCreateUserConfig.AllowAdminCreateUserOnly = %v, want true (no self sign-up)", get(p, "AdminCreateUserConfig", "AllowAdminCreateUserOnly"))
	}
	var tenant any
	for _, a := range list(p["Schema"]) {
		if get(a, "Name") == "tenant" {
			tenant = a
		}
	}
	if tenant == nil {
		t.Error("the user pool has no custom attribute tenant")
	} else if get(tenant, "Mutable") != false {
		t.Errorf("custom:tenant Mutable = %v, want false", get(tenant, "Mutable"))
	}
	clients := appCfn().ofType("AWS::Cognito::UserPoolClient")
	if len(clients) == 0 {
		t.Fatal("no user pool client")
	}
	for _, id := range sortedIDs(clients) {
		cp := props(clients[id])
		if !isRefTo(cp["UserPoolId"], pool) {
			continue
		}
		// Without WriteAttributes a client may write every attribute.
		if cp["WriteAttributes"] == nil {
			t.Errorf("client %s has no WriteAttributes: it may write custom:%s", id, "tenant")
		}
		if slices.Contains(strs(cp["WriteAttributes"]), TenantClaim) {
			t.Errorf("client %s may write %s: a collector could move themself to another tenant", id, TenantClaim)
		}
		if cp["ReadAttributes"] != nil && !slices.Contains(strs(cp["ReadAttributes"]), TenantClaim) {
			t.Errorf("client %s cannot read %s, which the approve function takes the tenant from", id, TenantClaim)
		}
	}
}

func TestERPIntegrationPolicy(t *testing.T) {
	id := appCfn().byProp(t, "AWS::IAM::ManagedPolicy", "ManagedPolicyName", "recoup-erp-integration")
	if id == "" {
		t.FailNow()
	}
	var n int
	for _, s := range iamStatements() {
		if s.where != "Recoup/"+id {
			continue
		}
		n++
		if s.effect != "Allow" || s.notAction || !reflect.DeepEqual(s.actions, []string{"execute-api:Invoke"}) {
			t.Errorf("statement %s %v, want Allow execute-api:Invoke only", s.effect, s.actions)
		}
		for _, r := range s.resources {
			if !strings.HasSuffix(r, "/POST/imports") {
				t.Errorf("execute-api:Invoke on %s, want the POST /imports method only", r)
			}
		}
	}
	if n == 0 {
		t.Error("recoup-erp-integration has no statements")
	}
}

// ---------------------------------------------------------------------
// 6. Schedules.

func TestSchedules(t *testing.T) {
	rules := appCfn().ofType("AWS::Events::Rule")
	fns := functions(t)
	daily := appCfn().byProp(t, "AWS::StepFunctions::StateMachine", "StateMachineName", "recoup-daily")
	targetsOf := func(match func(p map[string]any) bool) []any {
		var out []any
		for _, id := range sortedIDs(rules) {
			if p := props(rules[id]); match(p) {
				out = append(out, list(p["Targets"])...)
			}
		}
		return out
	}

	t.Run("daily", func(t *testing.T) {
		targets := targetsOf(func(p map[string]any) bool { return p["ScheduleExpression"] == "cron(0 14 ? * MON-FRI *)" })
		if len(targets) != 1 {
			t.Fatalf("%d targets on cron(0 14 ? * MON-FRI *), want 1", len(targets))
		}
		tg := targets[0]
		if got := render(get(tg, "Arn")); got != ref(daily) {
			t.Errorf("target %s, want the daily state machine %s", got, ref(daily))
		}
		// The input is the rule's time and the tenant: fill the template as
		// EventBridge does and read it as the state machine will.
		paths, _ := get(tg, "InputTransformer", "InputPathsMap").(map[string]any)
		tmpl, _ := get(tg, "InputTransformer", "InputTemplate").(string)
		var timeVar string
		for k, v := range paths {
			if v == "$.time" {
				timeVar = k
			}
		}
		if timeVar == "" {
			t.Fatalf("the input does not take the event's time ($.time): %s", render(get(tg, "InputTransformer")))
		}
		filled := strings.ReplaceAll(tmpl, "<"+timeVar+">", `"2025-03-03T14:00:00Z"`)
		var input map[string]any
		if err := json.Unmarshal([]byte(filled), &input); err != nil {
			t.Fatalf("input template %s is not JSON once filled: %v", tmpl, err)
		}
		if want := map[string]any{"tenant": testTenant, "as_of": "2025-03-03T14:00:00Z"}; !reflect.DeepEqual(input, want) {
			t.Errorf("daily input %v, want %v", input, want)
		}
	})

	t.Run("weekly-retrain", func(t *testing.T) {
		train := att(fns["train"].id, "Arn")
		targets := targetsOf(func(p map[string]any) bool {
			s, _ := p["ScheduleExpression"].(string)
			return strings.HasPrefix(s, "cron(")
		})
		var found []any
		for _, tg := range targets {
			if render(get(tg, "Arn")) == train {
				found = append(found, tg)
			}
		}
		if len(found) != 1 {
			t.Fatalf("%d scheduled targets invoke the train function, want 1", len(found))
		}
		expr := ""
		for _, r := range rules {
			for _, tg := range list(props(r)["Targets"]) {
				if reflect.DeepEqual(tg, found[0]) {
					expr, _ = props(r)["ScheduleExpression"].(string)
				}
			}
		}
		// Weekly: one day of the week, any day of the month.
		if f := strings.Fields(strings.TrimSuffix(strings.TrimPrefix(expr, "cron("), ")")); len(f) != 6 || f[2] != "?" || f[3] != "*" || strings.ContainsAny(f[4], "-,*") {
			t.Errorf("train schedule %q is not weekly", expr)
		}
		var input any
		if err := json.Unmarshal([]byte(fmt.Sprint(get(found[0], "Input"))), &input); err != nil {
			t.Fatalf("train input %v: %v", get(found[0], "Input"), err)
		}
		if want := map[string]any{"tenants": []any{testTenant}}; !reflect.DeepEqual(input, want) {
			t.Errorf("train input %v, want %v", input, want)
		}
	})

	t.Run("connect", func(t *testing.T) {
		targets := targetsOf(func(p map[string]any) bool {
			return slices.Contains(strs(get(p, "EventPattern", "source")), "aws.connect")
		})
		if len(targets) == 0 {
			t.Fatal("no rule on source aws.connect")
		}
		webhooks := att(fns["webhooks"].id, "Arn")
		ok := false
		for _, tg := range targets {
			if render(get(tg, "Arn")) == webhooks {
				ok = true
			}
		}
		if !ok {
			t.Errorf("the aws.connect rule does not target the webhooks function %s", webhooks)
		}
	})
}

// ---------------------------------------------------------------------
// 7. Audit archive and model registry (data stack).

func TestBuckets(t *testing.T) {
	buckets := dataCfn().ofType("AWS::S3::Bucket")
	var archives []string
	for _, id := range sortedIDs(buckets) {
		if props(buckets[id])["ObjectLockEnabled"] == true {
			archives = append(archives, id)
		}
	}
	if len(archives) != 1 {
		t.Fatalf("%d buckets with Object Lock, want 1 (the audit archive)", len(archives))
	}
	archive := archives[0]
	p := props(buckets[archive])
	if got := get(p, "ObjectLockConfiguration", "Rule", "DefaultRetention", "Mode"); got != "COMPLIANCE" {
		t.Errorf("audit archive retention mode %v, want COMPLIANCE", got)
	}
	if days, _ := get(p, "ObjectLockConfiguration", "Rule", "DefaultRetention", "Days").(float64); days < 3*365 {
		t.Errorf("audit archive retention %v days, want at least %d (three years)", days, 3*365)
	}

	if want := *data.Stack.GetLogicalId(data.AuditArchive.Node().DefaultChild().(awscdk.CfnElement)); archive != want {
		t.Errorf("the Object Lock bucket is %s, want the audit archive %s", archive, want)
	}
	models := *data.Stack.GetLogicalId(data.Models.Node().DefaultChild().(awscdk.CfnElement))
	if _, ok := buckets[models]; !ok {
		t.Fatalf("the model registry %s is not a bucket of the data stack", models)
	}
	for name, id := range map[string]string{"audit archive": archive, "model registry": models} {
		p := props(buckets[id])
		if got := get(p, "VersioningConfiguration", "Status"); got != "Enabled" {
			t.Errorf("%s: versioning %v, want Enabled", name, got)
		}
		enc := list(get(p, "BucketEncryption", "ServerSideEncryptionConfiguration"))
		if len(enc) == 0 || get(enc[0], "ServerSideEncryptionByDefault", "SSEAlgorithm") != "aws:kms" ||
			get(enc[0], "ServerSideEncryptionByDefault", "KMSMasterKeyID") == nil {
			t.Errorf("%s: encryption %s, want aws:kms with the deployment's key", name, render(p["BucketEncryption"]))
		}
		for _, k := range []string{"BlockPublicAcls", "BlockPublicPolicy", "IgnorePublicAcls", "RestrictPublicBuckets"} {
			if get(p, "PublicAccessBlockConfiguration", k) != true {
				t.Errorf("%s: PublicAccessBlockConfiguration.%s = %v, want true", name, k, get(p, "PublicAccessBlockConfiguration", k))
			}
		}
		if get(p, "LoggingConfiguration", "DestinationBucketName") == nil {
			t.Errorf("%s: no server access logging", name)
		}
	}

	// Every bucket refuses plain HTTP.
	policies := dataCfn().ofType("AWS::S3::BucketPolicy")
	for _, id := range sortedIDs(buckets) {
		denied := false
		for _, bp := range policies {
			if !isRefTo(props(bp)["Bucket"], id) {
				continue
			}
			for _, s := range list(get(props(bp), "PolicyDocument", "Statement")) {
				if get(s, "Effect") == "Deny" && get(s, "Condition", "Bool", "aws:SecureTransport") == "false" &&
					slices.Contains(strs(get(s, "Action")), "s3:*") {
					denied = true
				}
			}
		}
		if !denied {
			t.Errorf("bucket %s has no policy denying aws:SecureTransport false", id)
		}
	}
}

// ---------------------------------------------------------------------
// 8. Observability.

func TestAlarmTopic(t *testing.T) {
	topic := appCfn().byProp(t, "AWS::SNS::Topic", "TopicName", "recoup-alarms")
	if topic == "" {
		t.FailNow()
	}
	if props(appCfn().resources[topic])["KmsMasterKeyId"] == nil {
		t.Error("the alarm topic is not encrypted (KmsMasterKeyId)")
	}
	assertNoPanic(t, "e-mail subscription to the alarm address", func() {
		appTmpl.HasResourceProperties(jsii.String("AWS::SNS::Subscription"), map[string]any{
			"Protocol": "email", "Endpoint": params.AlarmEmail, "TopicArn": map[string]any{"Ref": topic}})
	})
	assertNoPanic(t, "one dashboard", func() {
		appTmpl.ResourceCountIs(jsii.String("AWS::CloudWatch::Dashboard"), jsii.Number(1))
	})
}

func TestAlarms(t *testing.T) {
	topic := appCfn().byProp(t, "AWS::SNS::Topic", "TopicName", "recoup-alarms")
	alarms := appCfn().ofType("AWS::CloudWatch::Alarm")
	type metric struct{ namespace, name, dimension string }
	byMetric := map[metric]map[string]any{}
	for _, id := range sortedIDs(alarms) {
		p := props(alarms[id])
		if got, want := renderAll(p["AlarmActions"]), []any{ref(topic)}; !reflect.DeepEqual(got, want) {
			t.Errorf("alarm %v: AlarmActions %v, want the alarm topic %v", p["AlarmName"], got, want)
		}
		var dims []string
		for _, d := range list(p["Dimensions"]) {
			dims = append(dims, fmt.Sprint(get(d, "Name"))+"="+render(get(d, "Value")))
		}
		byMetric[metric{fmt.Sprint(p["Namespace"]), fmt.Sprint(p["MetricName"]), strings.Join(dims, ",")}] = p
	}
	expect := func(what string, m metric, threshold float64) {
		t.Helper()
		p, ok := byMetric[m]
		if !ok {
			t.Errorf("no alarm on %s (%+v)", what, m)
			return
		}
		if threshold != 0 && p["Threshold"] != threshold {
			t.Errorf("alarm on %s: threshold %v, want %v", what, p["Threshold"], threshold)
		}
	}
	fns := functions(t)
	expect("the engagement function's iterator age", metric{"AWS/Lambda", "IteratorAge", "FunctionName=" + ref(fns["engagement"].id)}, 0)
	for _, name := range FunctionNames() {
		for _, m := range []string{"Errors", "Throttles"} {
			expect(name+" "+m, metric{"AWS/Lambda", m, "FunctionName=" + ref(fns[name].id)}, 0)
		}
	}
	for _, q := range []string{local.EngagementDLQ, local.EngagementFailures, local.WritebackDLQ, local.WritebackRejects} {
		id := dataCfn().byProp(t, "AWS::SQS::Queue", "QueueName", q)
		expect("dead-letter queue "+q, metric{"AWS/SQS", "ApproximateNumberOfMessagesVisible", "QueueName=" + att(id, "QueueName")}, 0)
	}
	expect("the functions' dead-letter queue", metric{"AWS/SQS", "ApproximateNumberOfMessagesVisible", "QueueName=" + att(functionDLQ(), "QueueName")}, 0)
	for _, name := range statemachine.Names {
		id := appCfn().byProp(t, "AWS::StepFunctions::StateMachine", "StateMachineName", "recoup-"+name)
		expect("failed "+name+" executions", metric{"AWS/States", "ExecutionsFailed", "StateMachineArn=" + ref(id)}, 0)
	}
	expect("the API's 5xx", metric{"AWS/ApiGateway", "5XXError", "ApiName=recoup"}, 0)
	expect("the opt-out spike", metric{"Recoup", "OptOuts", ""}, 25)
	expect("model drift", metric{"Recoup", "DriftAlarms", ""}, 1)
}

// logCall finds, in a Go source file of the repository, the slog Info call
// that logs field, and returns its message.
func logCall(t *testing.T, file, field string) string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(repoRoot, file))
	if err != nil {
		t.Fatal(err)
	}
	src := string(b)
	start := regexp.MustCompile(`\.Info\("([^"]+)"`)
	var msgs []string
	for _, loc := range start.FindAllStringSubmatchIndex(src, -1) {
		// The call's arguments run to the parenthesis that closes it.
		depth, end := 1, loc[1]
		for ; end < len(src) && depth > 0; end++ {
			switch src[end] {
			case '(':
				depth++
			case ')':
				depth--
			}
		}
		if strings.Contains(src[loc[1]:end], `"`+field+`"`) {
			msgs = append(msgs, src[loc[2]:loc[3]])
		}
	}
	if len(msgs) != 1 {
		t.Fatalf("%s: %d Info calls logging %q, want 1: %v", file, len(msgs), field, msgs)
	}
	return msgs[0]
}

// filterMatches evaluates a CloudWatch Logs JSON filter pattern of the
// form { $.a = "x" && $.b > 0 } against one JSON log line.
func filterMatches(t *testing.T, pattern string, line []byte) bool {
	t.Helper()
	var ev map[string]any
	if err := json.Unmarshal(line, &ev); err != nil {
		t.Fatalf("log line %s: %v", line, err)
	}
	body, ok := strings.CutPrefix(strings.TrimSpace(pattern), "{")
	body, ok2 := strings.CutSuffix(strings.TrimSpace(body), "}")
	if !ok || !ok2 || strings.Contains(body, "||") {
		t.Fatalf("filter pattern %q: only { clause && clause } is understood here", pattern)
	}
	clause := regexp.MustCompile(`^\$\.([A-Za-z0-9_]+)\s*(=|!=|>=|<=|>|<)\s*("(?:[^"\\]|\\.)*"|-?[0-9.]+)$`)
	for _, c := range strings.Split(body, "&&") {
		m := clause.FindStringSubmatch(strings.TrimSpace(c))
		if m == nil {
			t.Fatalf("filter pattern %q: clause %q not understood", pattern, c)
		}
		v, present := ev[m[1]]
		if !present {
			return false
		}
		if strings.HasPrefix(m[3], `"`) {
			want, _ := strconv.Unquote(m[3])
			s, isString := v.(string)
			if !isString || (m[2] == "=") != (s == want) || (m[2] != "=" && m[2] != "!=") {
				return false
			}
			continue
		}
		want, _ := strconv.ParseFloat(m[3], 64)
		n, isNumber := v.(float64)
		if !isNumber {
			return false
		}
		hold := map[string]bool{"=": n == want, "!=": n != want, ">": n > want, "<": n < want, ">=": n >= want, "<=": n <= want}[m[2]]
		if !hold {
			return false
		}
	}
	return true
}

func TestMetricFiltersMatchTheLogs(t *testing.T) {
	fns := functions(t)
	cases := []struct {
		metric, function, file, field string
		value                         any
		metricValue                   string // "" is the field's value
	}{
		{"OptOuts", "engagement", "shared/engagement/consumer.go", "opt_outs", 2, ""},
		{"DriftPSI", "worklist", "shared/cycle/daily.go", "drift_psi", 0.31, ""},
		{"DriftAlarms", "worklist", "shared/cycle/daily.go", "drift_level", "alarm", "1"},
	}
	filters := appCfn().ofType("AWS::Logs::MetricFilter")
	if len(filters) != len(cases) {
		t.Errorf("%d metric filters, want %d", len(filters), len(cases))
	}
	for _, c := range cases {
		t.Run(c.metric, func(t *testing.T) {
			var p map[string]any
			for _, f := range filters {
				for _, tr := range list(props(f)["MetricTransformations"]) {
					if get(tr, "MetricName") == c.metric {
						p = props(f)
					}
				}
			}
			if p == nil {
				t.Fatalf("no metric filter for %s", c.metric)
			}
			tr := list(p["MetricTransformations"])[0]
			if get(tr, "MetricNamespace") != "Recoup" {
				t.Errorf("namespace %v, want Recoup", get(tr, "MetricNamespace"))
			}
			want := "$." + c.field
			if c.metricValue != "" {
				want = c.metricValue
			}
			if got := get(tr, "MetricValue"); got != want {
				t.Errorf("metric value %v, want %s", got, want)
			}
			// The filter reads the log group of the function that logs it.
			lg := render(get(fns[c.function].props, "LoggingConfig", "LogGroup"))
			if got := render(p["LogGroupName"]); got != lg {
				t.Errorf("filter on log group %s, want %s's %s", got, c.function, lg)
			}
			pattern := fmt.Sprint(p["FilterPattern"])
			msg := logCall(t, c.file, c.field)
			if !strings.Contains(pattern, `"`+msg+`"`) {
				t.Errorf("filter pattern %s does not name the message %q that %s logs", pattern, msg, c.file)
			}
			// A line as the function writes it (slog's JSON handler).
			var buf bytes.Buffer
			slog.New(slog.NewJSONHandler(&buf, nil)).Info(msg, "tenant", testTenant, c.field, c.value)
			if !filterMatches(t, pattern, buf.Bytes()) {
				t.Errorf("filter pattern %s does not match the log line %s", pattern, buf.Bytes())
			}
			buf.Reset()
			slog.New(slog.NewJSONHandler(&buf, nil)).Info("something else", "tenant", testTenant, c.field, c.value)
			if filterMatches(t, pattern, buf.Bytes()) {
				t.Errorf("filter pattern %s matches an unrelated line %s", pattern, buf.Bytes())
			}
		})
	}
}

// The dashboard lists the failed executions of the state machines in a
// fixed order (statemachine.Names). A template that changes from one
// synthesis to the next is a spurious diff, and a dashboard update, on
// every deployment. (Ranging over a map to build the widget makes the
// order, and so this test, a coin toss.)
func TestDashboardIsStable(t *testing.T) {
	dashboards := appCfn().ofType("AWS::CloudWatch::Dashboard")
	if len(dashboards) != 1 {
		t.Fatalf("%d dashboards, want 1", len(dashboards))
	}
	body := render(props(dashboards[sortedIDs(dashboards)[0]])["DashboardBody"])
	var doc struct {
		Widgets []struct {
			Properties struct {
				Title   string  `json:"title"`
				Metrics [][]any `json:"metrics"`
			} `json:"properties"`
		} `json:"widgets"`
	}
	if err := json.Unmarshal([]byte(body), &doc); err != nil {
		t.Fatalf("dashboard body is not JSON: %v\n%s", err, body)
	}
	var want []string
	for _, name := range statemachine.Names {
		want = append(want, ref(appCfn().byProp(t, "AWS::StepFunctions::StateMachine", "StateMachineName", "recoup-"+name)))
	}
	for _, w := range doc.Widgets {
		if w.Properties.Title != "Failed executions" {
			continue
		}
		var got []string
		for _, m := range w.Properties.Metrics {
			if len(m) >= 4 && m[1] == "ExecutionsFailed" {
				got = append(got, fmt.Sprint(m[3]))
			}
		}
		if !reflect.DeepEqual(got, want) {
			t.Errorf("\"Failed executions\" lists %v, want %v (the order of %v): the template is not the same from one synthesis to the next",
				got, want, statemachine.Names)
		}
		return
	}
	t.Error("the dashboard has no \"Failed executions\" widget")
}

// functionDLQ is the logical id of the application stack's dead-letter
// queue for asynchronous invocations (its name is CloudFormation's).
func functionDLQ() string {
	return *app.GetLogicalId(app.FunctionDLQ.Node().DefaultChild().(awscdk.CfnElement))
}

// TestRetainedResourcesHaveNoFixedNames: `make destroy` keeps retained
// resources, so one with a fixed name would make the next `make deploy`
// fail with "already exists".
func TestRetainedResourcesHaveNoFixedNames(t *testing.T) {
	nameProps := []string{"LogGroupName", "QueueName", "TopicName", "BucketName", "FunctionName", "TableName", "StateMachineName", "Name"}
	c := appCfn()
	for _, id := range sortedIDs(c.resources) {
		r := c.resources[id]
		if r["DeletionPolicy"] != "Retain" {
			continue
		}
		for _, k := range nameProps {
			if v, ok := props(r)[k].(string); ok {
				t.Errorf("%s (%v) is retained on destroy with the fixed %s %q", id, r["Type"], k, v)
			}
		}
	}
}
