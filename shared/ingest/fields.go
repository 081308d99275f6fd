package ingest

// field is a canonical field. Rows of every format are copied into a
// [nFields]string indexed by field before validation, so one set of
// builders validates canonical files and ERP exports alike.
type field int

// Canonical fields; see FORMAT.md for their meaning.
const (
	fCustomerID field = iota
	fName
	fCustKind
	fCountry
	fBilling
	fSegment
	fKeyAccount
	fCurrency
	fContactID
	fContactKind
	fPhone
	fLineType
	fEmail
	fEmployerProvided
	fLine1
	fLine2
	fCity
	fState
	fZIP
	fConsent
	fConsentAt
	fInvoiceID
	fInvoiceDate
	fDueDate
	fAmount
	fOpenAmount
	fDisputed
	fClosedDate
	fPaymentID
	fReceivedDate
	fReference
	nFields
)

// fieldNames are the canonical column (and JSON key) names.
var fieldNames = [nFields]string{
	fCustomerID:       "customer_id",
	fName:             "name",
	fCustKind:         "kind",
	fCountry:          "country",
	fBilling:          "billing",
	fSegment:          "segment",
	fKeyAccount:       "key_account",
	fCurrency:         "currency",
	fContactID:        "contact_id",
	fContactKind:      "kind",
	fPhone:            "phone",
	fLineType:         "line_type",
	fEmail:            "email",
	fEmployerProvided: "employer_provided",
	fLine1:            "line1",
	fLine2:            "line2",
	fCity:             "city",
	fState:            "state",
	fZIP:              "zip",
	fConsent:          "consent",
	fConsentAt:        "consent_at",
	fInvoiceID:        "invoice_id",
	fInvoiceDate:      "invoice_date",
	fDueDate:          "due_date",
	fAmount:           "amount",
	fOpenAmount:       "open_amount",
	fDisputed:         "disputed",
	fClosedDate:       "closed_date",
	fPaymentID:        "payment_id",
	fReceivedDate:     "received_date",
	fReference:        "reference",
}

// boolFields may hold JSON booleans.
var boolFields = map[field]bool{fKeyAccount: true, fEmployerProvided: true, fDisputed: true}

// canonicalColumns lists, per kind, the canonical columns in FORMAT.md
// order and whether the header must have them.
var canonicalColumns = map[Kind][]canonCol{
	KindCustomers: {
		{fCustomerID, true}, {fName, true}, {fCustKind, false}, {fCountry, false}, {fBilling, false},
		{fSegment, false}, {fKeyAccount, false}, {fCurrency, false},
	},
	KindContacts: {
		{fCustomerID, true}, {fContactID, true}, {fContactKind, true}, {fPhone, false}, {fLineType, false},
		{fEmail, false}, {fEmployerProvided, false}, {fLine1, false}, {fLine2, false}, {fCity, false},
		{fState, false}, {fZIP, false}, {fCountry, false}, {fConsent, false}, {fConsentAt, false},
	},
	KindInvoices: {
		{fInvoiceID, true}, {fCustomerID, true}, {fInvoiceDate, true}, {fDueDate, true}, {fAmount, true},
		{fOpenAmount, false}, {fCurrency, false}, {fDisputed, false}, {fClosedDate, false},
	},
	KindPayments: {
		{fPaymentID, true}, {fCustomerID, true}, {fInvoiceID, false}, {fAmount, true}, {fCurrency, false},
		{fReceivedDate, true}, {fReference, false},
	},
}

type canonCol struct {
	f        field
	required bool
}

// canonicalByName maps a kind's lower-case column name to its field, for
// CSV headers and JSON keys.
var canonicalByName = func() map[Kind]map[string]field {
	m := map[Kind]map[string]field{}
	for k, cols := range canonicalColumns {
		m[k] = map[string]field{}
		for _, c := range cols {
			m[k][fieldNames[c.f]] = c.f
		}
	}
	return m
}()

// needsCurrency lists the kinds whose rows carry money.
var needsCurrency = map[Kind]bool{KindInvoices: true, KindPayments: true}
