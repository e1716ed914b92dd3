// Package labelvalue decides which identifiers sent by the API may become
// label values. The vendor's lists of agents and queues have no bound of
// their own, so a value that becomes a label must be short and plain:
// nothing the server sends can put text of its choosing (a caller's
// number, a name), or a long label, into a series.
package labelvalue

// MaxIdentifierLen bounds an identifier label: agent (Cno) and queue (Qno)
// numbers are a few digits.
const MaxIdentifierLen = 32

// Identifier reports whether s is a short run of letters, digits, '.',
// '-' and '_'.
func Identifier(s string) bool {
	if s == "" || len(s) > MaxIdentifierLen {
		return false
	}
	for _, c := range s {
		if !(c >= '0' && c <= '9' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c == '-' || c == '_' || c == '.') {
			return false
		}
	}
	return true
}
