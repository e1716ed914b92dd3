package labelvalue

import (
	"strings"
	"testing"
)

func TestIdentifier(t *testing.T) {
	for s, want := range map[string]bool{
		"1001": true, "A-1_2.3": true, strings.Repeat("9", MaxIdentifierLen): true,
		"": false, strings.Repeat("9", MaxIdentifierLen+1): false,
		"13800138000 Zhang San": false, "a/b": false, "售后": false, "1\n2": false, string(make([]byte, 4)): false,
	} {
		if got := Identifier(s); got != want {
			t.Errorf("Identifier(%q) = %v, want %v", s, got, want)
		}
	}
}
