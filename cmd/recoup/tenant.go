package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"time"

	"github.com/recoup-dev/recoup/shared/awsconfig"
	"github.com/recoup-dev/recoup/shared/ledger"
	"github.com/recoup-dev/recoup/shared/store/dynamo"
	"github.com/recoup-dev/recoup/shared/tenant"
)

// runTenant stores or shows a tenant's profile: the settings every step of
// the collection cycle reads (creditor name, disclosure texts, remedies,
// strategy, pilot segments).
func runTenant(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	if len(args) == 0 || (args[0] != "put" && args[0] != "show") {
		return fmt.Errorf("%w: tenant put (--file F | --demo) | show --tenant T", errUsage)
	}
	fs := newFlags("tenant "+args[0], stderr)
	file := fs.String("file", "", "profile JSON (schema recoup.tenant/1) to store")
	demo := fs.Bool("demo", false, "store the sample portfolio's profile (tenant demo)")
	id := fs.String("tenant", "", "tenant whose profile to show")
	if err := parseFlags(fs, args[1:]); err != nil {
		return err
	}
	if args[0] == "put" && *demo == (*file != "") {
		return fmt.Errorf("%w: give exactly one of --file and --demo", errUsage)
	}
	if args[0] == "show" && *id == "" {
		return fmt.Errorf("%w: tenant show needs --tenant", errUsage)
	}
	if _, _, err := openLedger(ctx); err != nil {
		return err
	}
	cfg, err := awsconfig.Load(ctx)
	if err != nil {
		return err
	}
	store, err := dynamo.NewTenants(awsconfig.DynamoDB(cfg), awsconfig.TablePrefix())
	if err != nil {
		return err
	}
	if args[0] == "show" {
		p, err := store.Profile(ctx, ledger.TenantID(*id))
		if err != nil {
			return err
		}
		fmt.Fprintf(stdout, "tenant %s: %s (%s), strategy %s, pilot segments %v\n", p.Tenant, p.Name, p.Collector,
			p.StrategyConfig().Hash()[:12], p.ShadowSegments)
		return nil
	}
	var data []byte
	if *demo {
		data = tenant.DemoJSON()
	} else if data, err = os.ReadFile(*file); err != nil {
		return err
	}
	p, err := store.Put(ctx, data, time.Now())
	if err != nil {
		return fmt.Errorf("%s: %w", *file, err)
	}
	fmt.Fprintf(stdout, "stored the profile of tenant %s (%s)\n", p.Tenant, p.Name)
	return nil
}
