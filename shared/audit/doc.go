// Package audit is Recoup's tamper-evident audit log: an append-only chain of
// records per tenant, each carrying the hash of the one before it, holding
// every contact decision with its inputs, rule ids and policy version, and a
// copy of what was sent. It is what lets a tenant prove, years later, why a
// contact was or was not made.
//
// The package is pure Go with no AWS SDK; shared/store/dynamo stores the chain.
// It never logs: records hold personal data (account ids, message copies), so
// problems and errors name tenants, sequence numbers and hashes only.
//
// # Chain
//
// Records of one tenant are numbered 1, 2, 3... (Seq). Record n carries
// PrevHash, the Hash of record n-1; record 1 carries Genesis(tenant). Next
// builds the following record from the previous one (or from a Head, the
// (seq, hash) of the last record, which is all a store keeps to append).
// Verify walks records in sequence order and names every edited, deleted,
// reordered, duplicated or foreign record and a truncated tail.
//
// # Hash encoding, version 1
//
// Hash is the lowercase hex SHA-256 of the byte string below. It is a
// length-prefixed binary encoding rather than JSON: every field is framed by
// its length, so no two different records encode alike, no string is
// normalised on the way in (JSON encoders rewrite invalid UTF-8 and may escape
// '<', '>' and '&', which would let two different stored strings hash alike),
// and it takes ten lines to reimplement in any language.
//
//	str(s)   = uint64 big-endian byte length of s, then the bytes of s
//	u64(n)   = uint64 big-endian n
//	encoding = str("recoup-audit/v1")
//	           str(Tenant)
//	           u64(Seq)
//	           str(At as UTC "2006-01-02T15:04:05.000000000Z", always 9 fraction digits)
//	           str(Kind) str(Account) str(Debt) str(Decision)
//	           u64(len(Rules)) then str(rule) for each rule, in order
//	           str(PolicyVersion) str(Reason)
//	           str(json(Inputs)) str(json(Content))
//	           str(PrevHash)
//
// json(m) is m with insignificant whitespace removed (encoding/json.Compact)
// when m is valid JSON, and m unchanged otherwise; empty when m is empty. So
// re-indenting stored JSON does not change the hash, while any change to a key,
// a value, key order or the spelling of a number does. (Valid JSON compacts to
// valid JSON, invalid bytes stay invalid, so the two cases never collide.)
// A nil and an empty Rules list encode alike, as do nil and empty JSON.
//
// The version string leads the encoding: a future v2 hashes differently and
// a verifier picks the rule by the version a record was written under.
//
// Genesis(tenant) is the lowercase hex SHA-256 of "recoup-audit-genesis:"
// followed by the tenant id.
//
// # Retention
//
// Records are never deleted and never expire: 12 CFR 1006.100 (Regulation F)
// requires a debt collector to keep evidence of compliance for three years
// after its last collection activity on a debt, and one log serves every
// debt of a tenant. Export writes the log as JSONL (lossless; ReadJSONL reads
// it back for offline verification) or CSV (for people).
package audit
