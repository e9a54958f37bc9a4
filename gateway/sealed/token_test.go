package sealed_test

import (
	"bytes"
	"crypto/sha256"
	"encoding/base64"
	"testing"

	"github.com/sealpost/sealpost/gateway/sealed"
)

func TestNewToken(t *testing.T) {
	t.Parallel()
	const n = 10_000
	seen := make(map[string]bool, n)
	var ones, bits int
	for range n {
		tok, hash := sealed.NewToken()
		if len(tok) != sealed.TokenLen || !sealed.WellFormedToken(tok) {
			t.Fatalf("token of length %d is not well formed", len(tok))
		}
		raw, err := base64.RawURLEncoding.DecodeString(tok)
		if err != nil || len(raw) != 32 {
			t.Fatalf("token is not 32 bytes of URL-safe base64: %v", err)
		}
		want := sha256.Sum256([]byte(tok))
		if !bytes.Equal(hash, want[:]) || !bytes.Equal(sealed.HashToken(tok), want[:]) {
			t.Fatal("hash is not the SHA-256 of the token")
		}
		if seen[tok] {
			t.Fatal("token repeated")
		}
		seen[tok] = true
		for _, c := range raw {
			for ; c != 0; c &= c - 1 {
				ones++
			}
		}
		bits += 8 * len(raw)
	}
	// 2.56 million fair bits: the share of ones lies within 0.5 ± 0.003
	// (more than 9 standard deviations).
	if share := float64(ones) / float64(bits); share < 0.497 || share > 0.503 {
		t.Fatalf("share of one bits = %.4f", share)
	}
}

func TestWellFormedToken(t *testing.T) {
	t.Parallel()
	tok, _ := sealed.NewToken()
	tests := []struct {
		name  string
		token string
		want  bool
	}{
		{"fresh", tok, true},
		{"empty", "", false},
		{"short", tok[:42], false},
		{"long", tok + "A", false},
		{"padded", tok[:42] + "=", false},
		{"standard alphabet", tok[:42] + "+", false},
		{"slash", tok[:42] + "/", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			if got := sealed.WellFormedToken(tt.token); got != tt.want {
				t.Fatalf("WellFormedToken = %v, want %v", got, tt.want)
			}
		})
	}
}

func TestEqualHash(t *testing.T) {
	t.Parallel()
	tok, h := sealed.NewToken()
	other, _ := sealed.NewToken()
	tests := []struct {
		name string
		a, b []byte
		want bool
	}{
		{"same token", h, sealed.HashToken(tok), true},
		{"other token", h, sealed.HashToken(other), false},
		{"truncated", h, h[:31], false},
		{"both empty", nil, nil, false},
		{"one empty", h, nil, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			if got := sealed.EqualHash(tt.a, tt.b); got != tt.want {
				t.Fatalf("EqualHash = %v, want %v", got, tt.want)
			}
		})
	}
}
