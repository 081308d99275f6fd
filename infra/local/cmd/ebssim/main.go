// Command ebssim serves the local stand-in for Oracle E-Business Suite's
// ISG REST services (infra/local/ebssim) on 127.0.0.1, for the EBS adapter
// (shared/erp/oracleebs) to call instead of a real EBS.
//
//	go run ./infra/local/cmd/ebssim -addr 127.0.0.1:8690
//
// Seed accounts with POST /_sim/accounts and inject faults with
// POST /_sim/faults (see the package documentation). SIGINT or SIGTERM
// stops it, letting requests in progress finish for up to 10 s.
package main

import (
	"flag"
	"fmt"
	"os"
	"time"

	"github.com/recoup-dev/recoup/infra/local/ebssim"
	"github.com/recoup-dev/recoup/infra/local/simctl"
)

func main() {
	if err := run(); err != nil {
		fmt.Fprintln(os.Stderr, "ebssim:", err)
		os.Exit(1)
	}
}

func run() error {
	addr := flag.String("addr", "127.0.0.1:8690", "listen address (127.0.0.1 only)")
	user := flag.String("user", "RECOUP_ISG", "ISG user name")
	password := flag.String("password", "welcome1", "ISG user's password")
	resp := flag.String("responsibility", "RECEIVABLES_MANAGER", "granted responsibility key (RESTHeader.Responsibility)")
	app := flag.String("resp-application", "AR", "RESTHeader.RespApplication")
	group := flag.String("security-group", "STANDARD", "RESTHeader.SecurityGroup")
	lang := flag.String("nls-language", "AMERICAN", "RESTHeader.NLSLanguage")
	org := flag.String("org-id", "204", "operating unit (RESTHeader.Org_Id)")
	ttl := flag.Duration("token-ttl", 15*time.Minute, "lifetime of a login's access token")
	level := flag.String("log-level", "info", "debug|info|warn|error")
	flag.Parse()

	log, err := simctl.Logger(*level)
	if err != nil {
		return err
	}

	sim := ebssim.New(ebssim.Config{User: *user, Password: *password, TokenTTL: *ttl, Log: log,
		Context: ebssim.RESTHeader{Responsibility: *resp, RespApplication: *app, SecurityGroup: *group, NLSLanguage: *lang, OrgID: *org}})
	return simctl.Serve(*addr, sim, log)
}
