// Command d365sim serves the local stand-in for Dynamics 365 Finance's
// OData service and its Entra ID token endpoint (infra/local/d365sim) on
// 127.0.0.1, for the Dynamics adapter (shared/erp/dynamics) to call
// instead of a real environment.
//
//	go run ./infra/local/cmd/d365sim -addr 127.0.0.1:8692
//
// Point the adapter at BaseURL http://127.0.0.1:8692 and TokenURL
// http://127.0.0.1:8692/recoup-sim/oauth2/v2.0/token. Seed customers with
// POST /_sim/accounts and inject faults with POST /_sim/faults (see the
// package documentation). SIGINT or SIGTERM stops it, letting requests in
// progress finish for up to 10 s.
package main

import (
	"flag"
	"fmt"
	"os"
	"strings"
	"time"

	"github.com/recoup-dev/recoup/infra/local/d365sim"
	"github.com/recoup-dev/recoup/infra/local/simctl"
)

func main() {
	if err := run(); err != nil {
		fmt.Fprintln(os.Stderr, "d365sim:", err)
		os.Exit(1)
	}
}

func run() error {
	addr := flag.String("addr", "127.0.0.1:8692", "listen address (127.0.0.1 only)")
	tenant := flag.String("tenant", "recoup-sim", "Entra ID tenant in the token path")
	clientID := flag.String("client-id", "recoup-d365", "the app registration's client id")
	secret := flag.String("client-secret", "recoup-secret", "the app registration's client secret")
	scope := flag.String("scope", "", "the scope tokens are issued for; empty: http://{host}/.default")
	ttl := flag.Duration("token-ttl", time.Hour, "lifetime of an access token")
	noteTypes := flag.String("note-types", "File,Image,Note,URL", "document types (DocuType ids) a note may use, comma-separated")
	level := flag.String("log-level", "info", "debug|info|warn|error")
	flag.Parse()

	log, err := simctl.Logger(*level)
	if err != nil {
		return err
	}

	var types []string
	for t := range strings.SplitSeq(*noteTypes, ",") {
		if t = strings.TrimSpace(t); t != "" {
			types = append(types, t)
		}
	}
	sim := d365sim.New(d365sim.Config{Tenant: *tenant, ClientID: *clientID, ClientSecret: *secret, Scope: *scope,
		TokenTTL: *ttl, NoteTypes: types, Log: log})
	return simctl.Serve(*addr, sim, log)
}
