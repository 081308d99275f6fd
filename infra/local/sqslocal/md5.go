package sqslocal

import (
	"crypto/md5"
	"encoding/binary"
	"encoding/hex"
	"hash"
	"sort"
	"strings"
)

// md5Hex is MD5OfMessageBody: the hex MD5 of the body's UTF-8 bytes.
func md5Hex(s string) string {
	sum := md5.Sum([]byte(s))
	return hex.EncodeToString(sum[:])
}

// md5OfAttributes is MD5OfMessageAttributes (and MD5OfMessageSystemAttributes)
// as SQS computes it: for each attribute in name order, the name, the data
// type, one transport byte (1 for String and Number, 2 for Binary) and the
// value, each string or byte value prefixed with its length as a 4-byte
// big-endian integer. It is "" for no attributes (SQS then omits the field).
func md5OfAttributes(attrs map[string]attributeValue) string {
	if len(attrs) == 0 {
		return ""
	}
	names := make([]string, 0, len(attrs))
	for n := range attrs {
		names = append(names, n)
	}
	sort.Strings(names)
	h := md5.New()
	for _, n := range names {
		v := attrs[n]
		writeLenPrefixed(h, []byte(n))
		writeLenPrefixed(h, []byte(v.DataType))
		if isBinaryType(v.DataType) {
			h.Write([]byte{2})
			writeLenPrefixed(h, v.BinaryValue)
		} else {
			h.Write([]byte{1})
			writeLenPrefixed(h, []byte(deref(v.StringValue)))
		}
	}
	return hex.EncodeToString(h.Sum(nil))
}

func writeLenPrefixed(h hash.Hash, b []byte) {
	var n [4]byte
	binary.BigEndian.PutUint32(n[:], uint32(len(b)))
	h.Write(n[:])
	h.Write(b)
}

// isBinaryType reports whether a data type (Binary, or Binary.<custom>) is
// carried as bytes.
func isBinaryType(dataType string) bool {
	return dataType == "Binary" || strings.HasPrefix(dataType, "Binary.")
}

func deref(s *string) string {
	if s == nil {
		return ""
	}
	return *s
}
