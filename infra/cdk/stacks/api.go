package stacks

import (
	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsapigateway"
	"github.com/aws/aws-cdk-go/awscdk/v2/awscognito"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsiam"
	"github.com/aws/aws-cdk-go/awscdk/v2/awslogs"
	"github.com/aws/aws-cdk-go/awscdk/v2/awswafv2"
	"github.com/aws/jsii-runtime-go"
	"github.com/cdklabs/cdk-nag-go/cdknag/v2"
)

// API limits: a finance team's collectors and one ERP integration, with
// room for a day's webhook bursts; WAF blocks one address above
// wafRateLimit requests in five minutes.
const (
	apiRateLimit  = 50
	apiBurstLimit = 100
	wafRateLimit  = 2000
)

// TenantClaim is the ID-token claim the approve function takes the tenant
// from (shared/approval.TenantFromClaims). Users cannot write it: only an
// administrator sets it when inviting them.
const TenantClaim = "custom:tenant"

// newAPI builds the REST API:
//
//	GET  /approvals, /approvals/{id}   collectors (Cognito user pool)
//	POST /approvals/{id}/decision      collectors (Cognito user pool)
//	POST /imports                      ERP integrations (IAM, SigV4)
//	POST /webhooks/{ses,sms,connect}   SNS and EventBridge; the function
//	                                   verifies SNS signatures and the
//	                                   Connect key itself
//
// Requests are validated against models before a function runs, the
// stage is throttled, traced and access-logged, and a WAF web ACL with
// AWS's managed rules and a rate limit sits in front.
func (r *Recoup) newAPI() {
	r.Users = awscognito.NewUserPool(r.Stack, jsii.String("Collectors"), &awscognito.UserPoolProps{
		UserPoolName:      jsii.String("recoup-collectors"),
		SelfSignUpEnabled: jsii.Bool(false),
		SignInAliases:     &awscognito.SignInAliases{Email: jsii.Bool(true)},
		AutoVerify:        &awscognito.AutoVerifiedAttrs{Email: jsii.Bool(true)},
		Mfa:               awscognito.Mfa_REQUIRED,
		MfaSecondFactor:   &awscognito.MfaSecondFactor{Otp: jsii.Bool(true), Sms: jsii.Bool(false)},
		PasswordPolicy: &awscognito.PasswordPolicy{MinLength: jsii.Number(14), RequireDigits: jsii.Bool(true),
			RequireLowercase: jsii.Bool(true), RequireUppercase: jsii.Bool(true), RequireSymbols: jsii.Bool(true),
			TempPasswordValidity: awscdk.Duration_Days(jsii.Number(3))},
		AccountRecovery:              awscognito.AccountRecovery_EMAIL_ONLY,
		FeaturePlan:                  awscognito.FeaturePlan_PLUS,
		StandardThreatProtectionMode: awscognito.StandardThreatProtectionMode_FULL_FUNCTION,
		CustomAttributes: &map[string]awscognito.ICustomAttribute{
			"tenant": awscognito.NewStringAttribute(&awscognito.StringAttributeProps{Mutable: jsii.Bool(false), MinLen: jsii.Number(1), MaxLen: jsii.Number(32)}),
		},
		DeletionProtection: jsii.Bool(true),
		RemovalPolicy:      awscdk.RemovalPolicy_RETAIN,
	})
	r.Users.AddClient(jsii.String("Web"), &awscognito.UserPoolClientOptions{
		UserPoolClientName: jsii.String("recoup-web"),
		// Sign-in is SRP from the finance team's client; no hosted UI, so
		// no OAuth flows or callback URLs to leave open.
		DisableOAuth:               jsii.Bool(true),
		AuthFlows:                  &awscognito.AuthFlow{UserSrp: jsii.Bool(true)},
		GenerateSecret:             jsii.Bool(false),
		PreventUserExistenceErrors: jsii.Bool(true),
		EnableTokenRevocation:      jsii.Bool(true),
		IdTokenValidity:            awscdk.Duration_Hours(jsii.Number(1)),
		AccessTokenValidity:        awscdk.Duration_Hours(jsii.Number(1)),
		RefreshTokenValidity:       awscdk.Duration_Hours(jsii.Number(12)),
		ReadAttributes: awscognito.NewClientAttributes().WithStandardAttributes(&awscognito.StandardAttributesMask{
			Email: jsii.Bool(true), EmailVerified: jsii.Bool(true), Fullname: jsii.Bool(true)}).WithCustomAttributes(jsii.String("tenant")),
		// Neither the tenant nor the e-mail is writable: a collector must
		// not move themself, nor change the name their verdicts are
		// recorded under (shared/approval.ActorFromClaims).
		WriteAttributes: awscognito.NewClientAttributes().WithStandardAttributes(&awscognito.StandardAttributesMask{
			Fullname: jsii.Bool(true)}),
	})

	access := awslogs.NewLogGroup(r.Stack, jsii.String("Logs-api"), &awslogs.LogGroupProps{
		Retention:     awslogs.RetentionDays_ONE_YEAR,
		EncryptionKey: r.data.Key,
		RemovalPolicy: awscdk.RemovalPolicy_RETAIN,
	})
	r.API = awsapigateway.NewRestApi(r.Stack, jsii.String("Api"), &awsapigateway.RestApiProps{
		RestApiName:    jsii.String("recoup"),
		Description:    jsii.String("Recoup: collectors' approvals, ERP imports, channel webhooks"),
		EndpointTypes:  &[]awsapigateway.EndpointType{awsapigateway.EndpointType_REGIONAL},
		CloudWatchRole: jsii.Bool(true),
		DeployOptions: &awsapigateway.StageOptions{
			StageName:            jsii.String("v1"),
			ThrottlingRateLimit:  jsii.Number(apiRateLimit),
			ThrottlingBurstLimit: jsii.Number(apiBurstLimit),
			TracingEnabled:       jsii.Bool(true),
			MetricsEnabled:       jsii.Bool(true),
			LoggingLevel:         awsapigateway.MethodLoggingLevel_ERROR,
			// Request and response bodies hold personal data: never log them.
			DataTraceEnabled:     jsii.Bool(false),
			AccessLogDestination: awsapigateway.NewLogGroupLogDestination(access),
			AccessLogFormat: awsapigateway.AccessLogFormat_JsonWithStandardFields(&awsapigateway.JsonWithStandardFieldProps{
				Caller: jsii.Bool(true), HttpMethod: jsii.Bool(true), Ip: jsii.Bool(true), Protocol: jsii.Bool(true),
				RequestTime: jsii.Bool(true), ResourcePath: jsii.Bool(true), ResponseLength: jsii.Bool(true),
				Status: jsii.Bool(true), User: jsii.Bool(true)}),
		},
	})
	authorizer := awsapigateway.NewCognitoUserPoolsAuthorizer(r.Stack, jsii.String("CollectorsAuthorizer"), &awsapigateway.CognitoUserPoolsAuthorizerProps{
		CognitoUserPools: &[]awscognito.IUserPool{r.Users},
		AuthorizerName:   jsii.String("collectors"),
	})
	bodies := r.API.AddRequestValidator(jsii.String("Bodies"), &awsapigateway.RequestValidatorOptions{
		RequestValidatorName: jsii.String("bodies-and-parameters"), ValidateRequestBody: jsii.Bool(true), ValidateRequestParameters: jsii.Bool(true)})
	params := r.API.AddRequestValidator(jsii.String("Parameters"), &awsapigateway.RequestValidatorOptions{
		RequestValidatorName: jsii.String("parameters"), ValidateRequestParameters: jsii.Bool(true)})
	collectors := func(o *awsapigateway.MethodOptions) *awsapigateway.MethodOptions {
		o.AuthorizationType, o.Authorizer = awsapigateway.AuthorizationType_COGNITO, authorizer
		return o
	}

	approve := awsapigateway.NewLambdaIntegration(r.Functions["approve"].Fn, nil)
	approvals := r.API.Root().AddResource(jsii.String("approvals"), nil)
	approvals.AddMethod(jsii.String("GET"), approve, collectors(&awsapigateway.MethodOptions{
		RequestValidator: params,
		RequestParameters: &map[string]*bool{"method.request.querystring.limit": jsii.Bool(false),
			"method.request.querystring.after": jsii.Bool(false), "method.request.querystring.tenant": jsii.Bool(false)},
	}))
	one := approvals.AddResource(jsii.String("{id}"), nil)
	one.AddMethod(jsii.String("GET"), approve, collectors(&awsapigateway.MethodOptions{
		RequestValidator:  params,
		RequestParameters: &map[string]*bool{"method.request.path.id": jsii.Bool(true), "method.request.querystring.tenant": jsii.Bool(false)},
	}))
	one.AddResource(jsii.String("decision"), nil).AddMethod(jsii.String("POST"), approve, collectors(&awsapigateway.MethodOptions{
		RequestValidator:  bodies,
		RequestParameters: &map[string]*bool{"method.request.path.id": jsii.Bool(true)},
		RequestModels:     &map[string]awsapigateway.IModel{"application/json": r.decisionModel()},
	}))

	r.importsRoute(bodies)

	hooks := awsapigateway.NewLambdaIntegration(r.Functions["webhooks"].Fn, nil)
	webhooks := r.API.Root().AddResource(jsii.String("webhooks"), nil)
	for _, source := range []string{"ses", "sms", "connect"} {
		m := webhooks.AddResource(jsii.String(source), nil).AddMethod(jsii.String("POST"), hooks, &awsapigateway.MethodOptions{
			AuthorizationType: awsapigateway.AuthorizationType_NONE})
		reason := "SNS delivers to HTTPS subscriptions without SigV4 or tokens; the webhooks function verifies each message's SNS signature and topic before using it, and dead-letters forgeries."
		if source == "connect" {
			reason = "EventBridge API destinations authenticate with a header; the webhooks function compares the X-Recoup-Webhook-Key header in constant time and dead-letters anything else."
		}
		cdknag.NagSuppressions_AddResourceSuppressions(m, &[]*cdknag.NagPackSuppression{
			{Id: jsii.String("AwsSolutions-APIG4"), Reason: jsii.String(reason)},
			{Id: jsii.String("AwsSolutions-COG4"), Reason: jsii.String(reason)},
		}, jsii.Bool(true))
	}
	r.newWebACL()
	cdknag.NagSuppressions_AddResourceSuppressions(r.API, &[]*cdknag.NagPackSuppression{
		{Id: jsii.String("AwsSolutions-IAM4"), AppliesTo: &[]any{"Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AmazonAPIGatewayPushToCloudWatchLogs"},
			Reason: jsii.String("API Gateway's account-level role for execution logs; AWS's managed policy is the documented one and grants only log writes.")},
		{Id: jsii.String("PCI.DSS.321-APIGWSSLEnabled"), Reason: jsii.String("Every integration is a Lambda function called over AWS's own signed channel; a client certificate authenticates API Gateway to HTTP backends, and there are none.")},
		{Id: jsii.String("PCI.DSS.321-APIGWCacheEnabledAndEncrypted"), Reason: jsii.String("No response is cached: approvals change with every decision, and an import or webhook must reach its function.")},
	}, jsii.Bool(true))
	awscdk.NewCfnOutput(r.Stack, jsii.String("ApiUrl"), &awscdk.CfnOutputProps{Value: r.API.Url()})
	awscdk.NewCfnOutput(r.Stack, jsii.String("UserPoolId"), &awscdk.CfnOutputProps{Value: r.Users.UserPoolId()})
}

// decisionModel is the approval decision's body (shared/approval's
// DecisionBody); the function checks it again, strictly.
func (r *Recoup) decisionModel() awsapigateway.Model {
	str := func(min, max float64) *awsapigateway.JsonSchema {
		return &awsapigateway.JsonSchema{Type: awsapigateway.JsonSchemaType_STRING, MinLength: jsii.Number(min), MaxLength: jsii.Number(max)}
	}
	return r.API.AddModel(jsii.String("Decision"), &awsapigateway.ModelOptions{
		ContentType: jsii.String("application/json"),
		ModelName:   jsii.String("Decision"),
		Schema: &awsapigateway.JsonSchema{
			Schema: awsapigateway.JsonSchemaVersion_DRAFT4, Title: jsii.String("decision"),
			Type: awsapigateway.JsonSchemaType_OBJECT,
			// "by" comes from the signed-in collector's token (ActorFromClaims).
			Required:             jsii.Strings("verdict"),
			AdditionalProperties: false,
			Properties: &map[string]*awsapigateway.JsonSchema{
				"tenant":  {Type: awsapigateway.JsonSchemaType_STRING, Enum: &[]any{r.params.Tenant}},
				"verdict": {Type: awsapigateway.JsonSchemaType_STRING, Enum: &[]any{"approved", "edited", "rejected", "handed_off"}},
				"by":      str(1, 200),
				"note":    str(0, 2000),
				"draft": {Type: &[]awsapigateway.JsonSchemaType{awsapigateway.JsonSchemaType_OBJECT, awsapigateway.JsonSchemaType_NULL}, AdditionalProperties: false, Required: jsii.Strings("body"),
					Properties: &map[string]*awsapigateway.JsonSchema{"subject": str(0, 998), "body": str(1, 20000)}},
			},
		},
	})
}

// importsRoute is POST /imports for the tenant's ERP integration, signed
// with SigV4 by a principal holding the recoup-erp-integration policy. The
// body is the ingest function's own request (shared/imports.Request),
// passed through as it is; API Gateway refuses any other tenant.
func (r *Recoup) importsRoute(bodies awsapigateway.RequestValidator) {
	model := r.API.AddModel(jsii.String("Import"), &awsapigateway.ModelOptions{
		ContentType: jsii.String("application/json"),
		ModelName:   jsii.String("Import"),
		Schema: &awsapigateway.JsonSchema{
			Schema: awsapigateway.JsonSchemaVersion_DRAFT4, Title: jsii.String("import"),
			Type:                 awsapigateway.JsonSchemaType_OBJECT,
			Required:             jsii.Strings("tenant"),
			AdditionalProperties: false,
			Properties: &map[string]*awsapigateway.JsonSchema{
				"tenant":   {Type: awsapigateway.JsonSchemaType_STRING, Enum: &[]any{r.params.Tenant}},
				"format":   {Type: awsapigateway.JsonSchemaType_STRING, MaxLength: jsii.Number(32)},
				"currency": {Type: awsapigateway.JsonSchemaType_STRING, Pattern: jsii.String("^[A-Z]{3}$")},
				"region":   {Type: awsapigateway.JsonSchemaType_STRING, Pattern: jsii.String("^[A-Z]{2}$")},
				"from":     {Type: awsapigateway.JsonSchemaType_STRING, Enum: &[]any{"erp"}},
				"since":    {Type: awsapigateway.JsonSchemaType_STRING, Format: jsii.String("date-time")},
				"files": {Type: awsapigateway.JsonSchemaType_ARRAY, MaxItems: jsii.Number(20), Items: &awsapigateway.JsonSchema{
					Type: awsapigateway.JsonSchemaType_OBJECT, AdditionalProperties: false, Required: jsii.Strings("name", "content"),
					Properties: &map[string]*awsapigateway.JsonSchema{
						"name":    {Type: awsapigateway.JsonSchemaType_STRING, MinLength: jsii.Number(1), MaxLength: jsii.Number(255)},
						"kind":    {Type: awsapigateway.JsonSchemaType_STRING, MaxLength: jsii.Number(32)},
						"content": {Type: awsapigateway.JsonSchemaType_STRING},
					}}},
			},
		},
	})
	errorBody := map[string]*string{"application/json": jsii.String(`{"error": $input.json('$.errorMessage')}`)}
	ingest := awsapigateway.NewLambdaIntegration(r.Functions["ingest"].Fn, &awsapigateway.LambdaIntegrationOptions{
		Proxy:               jsii.Bool(false),
		PassthroughBehavior: awsapigateway.PassthroughBehavior_NEVER,
		RequestTemplates:    &map[string]*string{"application/json": jsii.String("$input.body")},
		IntegrationResponses: &[]*awsapigateway.IntegrationResponse{
			{StatusCode: jsii.String("200")},
			// shared/imports.ErrBadRequest: the request names what is wrong.
			{StatusCode: jsii.String("400"), SelectionPattern: jsii.String("bad ingest request.*"), ResponseTemplates: &errorBody},
			{StatusCode: jsii.String("500"), SelectionPattern: jsii.String("(.|\\n)+"), ResponseTemplates: &errorBody},
		},
	})
	method := r.API.Root().AddResource(jsii.String("imports"), nil).AddMethod(jsii.String("POST"), ingest, &awsapigateway.MethodOptions{
		AuthorizationType: awsapigateway.AuthorizationType_IAM,
		RequestValidator:  bodies,
		RequestModels:     &map[string]awsapigateway.IModel{"application/json": model},
		MethodResponses: &[]*awsapigateway.MethodResponse{
			{StatusCode: jsii.String("200")}, {StatusCode: jsii.String("400")}, {StatusCode: jsii.String("500")}},
	})
	cdknag.NagSuppressions_AddResourceSuppressions(method, &[]*cdknag.NagPackSuppression{
		{Id: jsii.String("AwsSolutions-COG4"), Reason: jsii.String("The caller is the tenant's ERP integration, a machine: it signs with SigV4 under IAM (the recoup-erp-integration policy), not as a person with a Cognito token.")},
	}, jsii.Bool(true))
	awsiam.NewManagedPolicy(r.Stack, jsii.String("ErpIntegration"), &awsiam.ManagedPolicyProps{
		ManagedPolicyName: jsii.String("recoup-erp-integration"),
		Description:       jsii.String("Attach to the principal the tenant's ERP integration signs with: it may POST imports, nothing else"),
		Statements: &[]awsiam.PolicyStatement{awsiam.NewPolicyStatement(&awsiam.PolicyStatementProps{
			Actions:   jsii.Strings("execute-api:Invoke"),
			Resources: jsii.Strings(*method.MethodArn()),
		})},
	})
}

// newWebACL puts AWS WAF in front of the stage: AWS's common and
// known-bad-input rule sets, and a per-address rate limit.
func (r *Recoup) newWebACL() {
	visibility := func(name string) *awswafv2.CfnWebACL_VisibilityConfigProperty {
		return &awswafv2.CfnWebACL_VisibilityConfigProperty{CloudWatchMetricsEnabled: jsii.Bool(true),
			MetricName: jsii.String(name), SampledRequestsEnabled: jsii.Bool(true)}
	}
	managed := func(priority float64, name string, count ...string) *awswafv2.CfnWebACL_RuleProperty {
		var overrides []any
		for _, rule := range count {
			overrides = append(overrides, &awswafv2.CfnWebACL_RuleActionOverrideProperty{Name: jsii.String(rule),
				ActionToUse: &awswafv2.CfnWebACL_RuleActionProperty{Count: map[string]any{}}})
		}
		return &awswafv2.CfnWebACL_RuleProperty{Name: jsii.String(name), Priority: jsii.Number(priority),
			Statement: &awswafv2.CfnWebACL_StatementProperty{ManagedRuleGroupStatement: &awswafv2.CfnWebACL_ManagedRuleGroupStatementProperty{
				VendorName: jsii.String("AWS"), Name: jsii.String(name), RuleActionOverrides: &overrides}},
			OverrideAction:   &awswafv2.CfnWebACL_OverrideActionProperty{None: map[string]any{}},
			VisibilityConfig: visibility(name)}
	}
	acl := awswafv2.NewCfnWebACL(r.Stack, jsii.String("WebAcl"), &awswafv2.CfnWebACLProps{
		Name:             jsii.String("recoup-api"),
		Scope:            jsii.String("REGIONAL"),
		DefaultAction:    &awswafv2.CfnWebACL_DefaultActionProperty{Allow: map[string]any{}},
		VisibilityConfig: visibility("recoup-api"),
		Rules: &[]any{
			&awswafv2.CfnWebACL_RuleProperty{Name: jsii.String("rate-per-address"), Priority: jsii.Number(0),
				Statement: &awswafv2.CfnWebACL_StatementProperty{RateBasedStatement: &awswafv2.CfnWebACL_RateBasedStatementProperty{
					Limit: jsii.Number(wafRateLimit), AggregateKeyType: jsii.String("IP")}},
				Action:           &awswafv2.CfnWebACL_RuleActionProperty{Block: map[string]any{}},
				VisibilityConfig: visibility("rate-per-address")},
			// Imports carry whole exports: the common set's 8 KB body
			// limit only counts; a synchronous Lambda's 6 MB limit holds.
			managed(1, "AWSManagedRulesCommonRuleSet", "SizeRestrictions_BODY"),
			managed(2, "AWSManagedRulesKnownBadInputsRuleSet"),
		},
	})
	// WAF's own log group (its name must start aws-waf-logs-), with the
	// credentials headers redacted.
	wafLogs := awslogs.NewLogGroup(r.Stack, jsii.String("Logs-waf"), &awslogs.LogGroupProps{
		// WAF wants the prefix; the stack's own id makes the name new for
		// each deployment, since the group outlives a destroy.
		LogGroupName: awscdk.Fn_Join(jsii.String(""), &[]*string{jsii.String("aws-waf-logs-recoup-"),
			awscdk.Fn_Select(jsii.Number(2), awscdk.Fn_Split(jsii.String("/"), r.StackId(), nil))}),
		Retention:     awslogs.RetentionDays_ONE_YEAR,
		EncryptionKey: r.data.Key,
		RemovalPolicy: awscdk.RemovalPolicy_RETAIN,
	})
	awswafv2.NewCfnLoggingConfiguration(r.Stack, jsii.String("WebAclLogging"), &awswafv2.CfnLoggingConfigurationProps{
		ResourceArn:           acl.AttrArn(),
		LogDestinationConfigs: jsii.Strings(*r.FormatArn(&awscdk.ArnComponents{Service: jsii.String("logs"), Resource: jsii.String("log-group"), ResourceName: wafLogs.LogGroupName(), ArnFormat: awscdk.ArnFormat_COLON_RESOURCE_NAME})),
		RedactedFields: &[]any{
			&awswafv2.CfnLoggingConfiguration_FieldToMatchProperty{SingleHeader: map[string]any{"Name": "authorization"}},
			&awswafv2.CfnLoggingConfiguration_FieldToMatchProperty{SingleHeader: map[string]any{"Name": "x-recoup-webhook-key"}},
		},
	})
	awswafv2.NewCfnWebACLAssociation(r.Stack, jsii.String("WebAclAssociation"), &awswafv2.CfnWebACLAssociationProps{
		ResourceArn: r.API.DeploymentStage().StageArn(),
		WebAclArn:   acl.AttrArn(),
	})
}
