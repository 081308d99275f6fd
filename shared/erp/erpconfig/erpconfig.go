// Package erpconfig reads a tenant's ERP connection — which ERP, where it
// is and the integration user's credentials — and opens the adapter for it.
// In AWS the document is a Secrets Manager secret, so the password and the
// endpoint rotate together; on the local stack it is a file. The package
// knows every adapter and no AWS SDK.
package erpconfig

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"strings"
	"time"

	"github.com/recoup-dev/recoup/shared/erp/dynamics"
	"github.com/recoup-dev/recoup/shared/erp/oracleebs"
	"github.com/recoup-dev/recoup/shared/writeback"
)

// The ERPs an adapter exists for.
const (
	ERPOracleEBS = "oracle-ebs"
	ERPDynamics  = "dynamics-365"
)

// Config is the connection document.
//
//	{"erp": "oracle-ebs",
//	 "oracle_ebs": {"base_url": "https://ebs.example.com:4443", "user": "RECOUP_ISG",
//	   "password": "…", "token": true, "responsibility": "RECEIVABLES_MANAGER",
//	   "resp_application": "AR", "security_group": "STANDARD", "nls_language": "AMERICAN",
//	   "org_id": "204", "resource": "100001234"}}
//
//	{"erp": "dynamics-365",
//	 "dynamics_365": {"base_url": "https://contoso.operations.dynamics.com",
//	   "token_url": "https://login.microsoftonline.com/<tenant>/oauth2/v2.0/token",
//	   "client_id": "…", "client_secret": "…", "company": "usmf"}}
type Config struct {
	ERP       string     `json:"erp"`
	OracleEBS *OracleEBS `json:"oracle_ebs,omitempty"`
	Dynamics  *Dynamics  `json:"dynamics_365,omitempty"`
}

// Dynamics is the Dynamics 365 Finance OData connection (dynamics.Config).
type Dynamics struct {
	BaseURL      string `json:"base_url"`
	TokenURL     string `json:"token_url"`
	ClientID     string `json:"client_id"`
	ClientSecret string `json:"client_secret"`
	Scope        string `json:"scope,omitempty"`
	Company      string `json:"company"`
	// HoldStatus is the OnHoldStatus of a credit hold: All (default) or
	// Invoice.
	HoldStatus     string `json:"hold_status,omitempty"`
	NoteType       string `json:"note_type,omitempty"`
	TimeoutSeconds int    `json:"timeout_seconds,omitempty"`
}

// OracleEBS is the Integrated SOA Gateway connection (oracleebs.Config).
type OracleEBS struct {
	BaseURL         string `json:"base_url"`
	User            string `json:"user"`
	Password        string `json:"password"`
	Token           bool   `json:"token,omitempty"`
	Responsibility  string `json:"responsibility"`
	RespApplication string `json:"resp_application"`
	SecurityGroup   string `json:"security_group"`
	NLSLanguage     string `json:"nls_language"`
	OrgID           string `json:"org_id"`
	// Aliases override the default service aliases (oracleebs.DefaultAliases),
	// by the oracleebs.Aliases field name in lower case: recoup, profile,
	// notes, tasks, promises, disputes, receipts.
	Aliases    map[string]string `json:"aliases,omitempty"`
	NoteType   string            `json:"note_type,omitempty"`
	TaskType   string            `json:"task_type,omitempty"`
	TaskStatus string            `json:"task_status,omitempty"`
	Resource   string            `json:"resource"`
	ReasonCode string            `json:"reason_code,omitempty"`
	// TimeoutSeconds bounds one request (30 when 0).
	TimeoutSeconds int `json:"timeout_seconds,omitempty"`
}

// Parse reads a connection document strictly: an unknown field is a typo
// that would otherwise leave a setting at its default unnoticed.
func Parse(data []byte) (Config, error) {
	var c Config
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&c); err != nil {
		return Config{}, fmt.Errorf("erp connection: %w", err)
	}
	if dec.More() {
		return Config{}, errors.New("erp connection: data after the document")
	}
	switch c.ERP {
	case ERPOracleEBS:
		if c.OracleEBS == nil {
			return Config{}, errors.New(`erp connection: erp is "oracle-ebs" but oracle_ebs is missing`)
		}
	case ERPDynamics:
		if c.Dynamics == nil {
			return Config{}, errors.New(`erp connection: erp is "dynamics-365" but dynamics_365 is missing`)
		}
	case "":
		return Config{}, errors.New("erp connection: erp is missing (oracle-ebs, dynamics-365)")
	default:
		return Config{}, fmt.Errorf("erp connection: erp %q is not one Recoup has an adapter for (oracle-ebs, dynamics-365)", c.ERP)
	}
	if c.OracleEBS != nil && c.Dynamics != nil {
		return Config{}, errors.New("erp connection: give the section of the one ERP named, not both")
	}
	return c, nil
}

// BaseURL is the ERP's address the document names.
func (c Config) BaseURL() string {
	switch {
	case c.OracleEBS != nil:
		return c.OracleEBS.BaseURL
	case c.Dynamics != nil:
		return c.Dynamics.BaseURL
	}
	return ""
}

// CheckEndpoint refuses a document whose ERP is not at endpoint, the
// address the deployment was made for: whoever can change the secret
// must not be able to send the ledger and the credentials elsewhere.
// Scheme and host compare without case, a trailing '/' is ignored.
func (c Config) CheckEndpoint(endpoint string) error {
	got, err := normURL(c.BaseURL())
	if err != nil {
		return fmt.Errorf("erp connection: base_url is not a URL")
	}
	want, err := normURL(endpoint)
	if err != nil {
		return fmt.Errorf("erp connection: the deployment's endpoint is not a URL")
	}
	if got.String() != want.String() {
		// The message may reach a log: never quote credentials.
		return fmt.Errorf("erp connection: base_url %q is not the endpoint this deployment was made for (%q); redeploy with the new endpoint to move the ERP",
			got.Redacted(), want.Redacted())
	}
	return nil
}

// normURL puts a URL in the form CheckEndpoint compares: scheme and host
// in lower case, a default port left out, no trailing '/'.
func normURL(raw string) (*url.URL, error) {
	u, err := url.Parse(strings.TrimSpace(raw))
	if err != nil {
		return nil, err
	}
	u.Scheme, u.Host = strings.ToLower(u.Scheme), strings.ToLower(u.Host)
	if port := u.Port(); (u.Scheme == "https" && port == "443") || (u.Scheme == "http" && port == "80") {
		u.Host = u.Hostname()
	}
	u.Path = strings.TrimRight(u.Path, "/")
	return u, nil
}

// Open builds the adapter the document names; it checks what the
// adapter needs and names what is missing.
func (c Config) Open() (writeback.ERP, error) {
	switch c.ERP {
	case ERPOracleEBS:
		return c.OracleEBS.open()
	case ERPDynamics:
		d := c.Dynamics
		if d.TimeoutSeconds < 0 {
			return nil, errors.New("erp connection: dynamics_365.timeout_seconds is negative")
		}
		cl, err := dynamics.New(dynamics.Config{BaseURL: d.BaseURL, TokenURL: d.TokenURL, ClientID: d.ClientID,
			ClientSecret: d.ClientSecret, Scope: d.Scope, Company: d.Company, HoldStatus: d.HoldStatus,
			NoteType: d.NoteType, Timeout: time.Duration(d.TimeoutSeconds) * time.Second})
		if err != nil {
			return nil, fmt.Errorf("erp connection: %w", err)
		}
		return cl, nil
	}
	return nil, fmt.Errorf("erp connection: no adapter for %q", c.ERP)
}

// EBS returns the Oracle EBS client, for reads (ingest) as well as writes.
func (c Config) EBS() (*oracleebs.Client, error) {
	if c.ERP != ERPOracleEBS || c.OracleEBS == nil {
		return nil, fmt.Errorf("erp connection: the ERP is %q, not oracle-ebs", c.ERP)
	}
	return c.OracleEBS.open()
}

func (o *OracleEBS) open() (*oracleebs.Client, error) {
	al := oracleebs.Aliases{}
	for k, v := range o.Aliases {
		p := map[string]*string{"recoup": &al.Recoup, "profile": &al.Profile, "notes": &al.Notes, "tasks": &al.Tasks,
			"promises": &al.Promises, "disputes": &al.Disputes, "receipts": &al.Receipts}[strings.ToLower(k)]
		if p == nil {
			return nil, fmt.Errorf("erp connection: oracle_ebs.aliases.%s is not a service (recoup, profile, notes, tasks, promises, disputes, receipts)", k)
		}
		*p = v
	}
	if o.TimeoutSeconds < 0 {
		return nil, errors.New("erp connection: oracle_ebs.timeout_seconds is negative")
	}
	c, err := oracleebs.New(oracleebs.Config{BaseURL: o.BaseURL, User: o.User, Password: o.Password, Token: o.Token,
		Context: oracleebs.Context{Responsibility: o.Responsibility, RespApplication: o.RespApplication,
			SecurityGroup: o.SecurityGroup, NLSLanguage: o.NLSLanguage, OrgID: o.OrgID},
		Aliases: al, NoteType: o.NoteType, TaskType: o.TaskType, TaskStatus: o.TaskStatus, Resource: o.Resource,
		ReasonCode: o.ReasonCode, Timeout: time.Duration(o.TimeoutSeconds) * time.Second})
	if err != nil {
		return nil, fmt.Errorf("erp connection: %w", err)
	}
	return c, nil
}
