package local

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"net"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"

	"github.com/recoup-dev/recoup/infra/local/sfnlocal"
)

// healthClient is used for every probe; each attempt is short so that a hung
// service does not stall the polling loop.
// Probes never go through a proxy and do not keep idle connections open
// (which would hold kinesalite's server open while it shuts down).
var healthClient = &http.Client{
	Timeout:   3 * time.Second,
	Transport: &http.Transport{Proxy: nil, DisableKeepAlives: true},
}

// awsJSONProbe POSTs an AWS JSON-protocol request ({} body) signed with the
// dummy credentials (DynamoDB Local and kinesalite refuse unsigned requests
// but never check the signature) and wants 200 with wantField in the body
// (any body when wantField is "").
func awsJSONProbe(ctx context.Context, url, signingName, target, contentType, wantField string) error {
	body := []byte("{}")
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, url+"/", bytes.NewReader(body))
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", contentType)
	req.Header.Set("X-Amz-Target", target)
	sum := sha256.Sum256(body)
	creds := aws.Credentials{AccessKeyID: dummyAccessKey, SecretAccessKey: dummySecretKey}
	if err := v4.NewSigner().SignHTTP(ctx, creds, req, hex.EncodeToString(sum[:]), signingName, Region, time.Now()); err != nil {
		return err
	}
	resp, err := healthClient.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(io.LimitReader(resp.Body, 4096))
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("%s: HTTP %d: %s", target, resp.StatusCode, strings.TrimSpace(string(b)))
	}
	if wantField != "" && !bytes.Contains(b, []byte(`"`+wantField+`"`)) {
		return fmt.Errorf("%s: HTTP 200 without %q: %s", target, wantField, strings.TrimSpace(string(b)))
	}
	return nil
}

// dynamoDBHealthy asks DynamoDB Local for ListTables.
func dynamoDBHealthy(ctx context.Context, cfg Config) error {
	return awsJSONProbe(ctx, cfg.DynamoDBEndpoint(), "dynamodb",
		"DynamoDB_20120810.ListTables", "application/x-amz-json-1.0", "TableNames")
}

// kinesisHealthy asks kinesalite for ListStreams.
func kinesisHealthy(ctx context.Context, cfg Config) error {
	return awsJSONProbe(ctx, cfg.KinesisEndpoint(), "kinesis",
		"Kinesis_20131202.ListStreams", "application/x-amz-json-1.1", "StreamNames")
}

// sqsHealthy asks the SQS emulator for ListQueues. With no queues the
// answer is {}, so there is no field to look for: a 200 to an AWS JSON 1.0
// SQS call is enough (DynamoDB Local and kinesalite refuse that target).
func sqsHealthy(ctx context.Context, cfg Config) error {
	return awsJSONProbe(ctx, cfg.SQSEndpoint(), "sqs",
		"AmazonSQS.ListQueues", "application/x-amz-json-1.0", "")
}

// lambdaHostHealthy wants 200 from GET /health on the Lambda host.
func lambdaHostHealthy(ctx context.Context, cfg Config) error {
	return getHealth(ctx, cfg.LambdaEndpoint(), nil)
}

// sfnHealthy asks the Step Functions server for ListStateMachines.
func sfnHealthy(ctx context.Context, cfg Config) error {
	return sfnlocal.Health(ctx, cfg.SFNEndpoint())
}

// outboxHealthy wants 200 "ok" from GET /health on the outbox server. The
// exact body tells it from the Lambda host, whose /health answers JSON.
func outboxHealthy(ctx context.Context, cfg Config) error {
	return getHealth(ctx, cfg.OutboxEndpoint(), func(body string) bool { return body == "ok" })
}

// bedrockHealthy wants 200 from GET /health on the fake Bedrock Runtime,
// naming the service (cmd/bedrock answers {"service":"bedrock-runtime",...}).
func bedrockHealthy(ctx context.Context, cfg Config) error {
	return getHealth(ctx, cfg.BedrockEndpoint(), func(body string) bool {
		return strings.Contains(body, `"bedrock-runtime"`)
	})
}

func ebsHealthy(ctx context.Context, cfg Config) error {
	// /_sim/stats, not /health: its body says the port is the simulator.
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, cfg.EBSEndpoint()+"/_sim/stats", nil)
	if err != nil {
		return err
	}
	resp, err := healthClient.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(io.LimitReader(resp.Body, 1<<16))
	if resp.StatusCode != http.StatusOK || !strings.Contains(string(b), `"requests"`) {
		return fmt.Errorf("%s/_sim/stats answered %d, not the EBS simulator", cfg.EBSEndpoint(), resp.StatusCode)
	}
	return nil
}

// getHealth wants 200 from GET <endpoint>/health and, when bodyOK is not
// nil, a (trimmed) body it accepts.
func getHealth(ctx context.Context, endpoint string, bodyOK func(string) bool) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, endpoint+"/health", nil)
	if err != nil {
		return err
	}
	resp, err := healthClient.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(io.LimitReader(resp.Body, 4096))
	body := strings.TrimSpace(string(b))
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("GET /health: HTTP %d: %s", resp.StatusCode, body)
	}
	if bodyOK != nil && !bodyOK(body) {
		return fmt.Errorf("GET /health: HTTP 200 from another service: %s", body)
	}
	return nil
}

// portInUse reports whether something accepts TCP connections on
// 127.0.0.1:port.
func portInUse(port int) bool {
	c, err := net.DialTimeout("tcp", net.JoinHostPort(Host, strconv.Itoa(port)), 500*time.Millisecond)
	if err != nil {
		return false
	}
	c.Close()
	return true
}
