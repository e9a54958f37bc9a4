package sealed_test

import (
	"bytes"
	"crypto/hmac"
	"errors"
	"testing"

	"github.com/sealpost/sealpost/gateway/sealed"
)

var testSecret = bytes.Repeat([]byte("s"), sealed.CodeSecretSize)

func TestNewCodeDistribution(t *testing.T) {
	t.Parallel()
	const n = 10_000
	tok, _ := sealed.NewToken()
	var digitCount [sealed.CodeDigits][10]int
	distinct := map[string]bool{}
	for range n {
		code, hash := sealed.NewCode(testSecret, tok)
		if len(code) != sealed.CodeDigits {
			t.Fatalf("code %q is not %d digits", code, sealed.CodeDigits)
		}
		for i, c := range []byte(code) {
			if c < '0' || c > '9' {
				t.Fatalf("code %q has a non-digit", code)
			}
			digitCount[i][c-'0']++
		}
		if !hmac.Equal(hash, sealed.CodeHash(testSecret, tok, code)) {
			t.Fatal("NewCode hash differs from CodeHash")
		}
		distinct[code] = true
	}

	// Birthday bound: 10,000 draws from a million collide about 50 times;
	// more than 200 repeats means the codes are far from uniform.
	if repeats := n - len(distinct); repeats > 200 {
		t.Fatalf("%d repeated codes in %d", repeats, n)
	}

	// Chi-square per position over ten digits has 9 degrees of freedom;
	// 35 is beyond the 0.9999 quantile (about 33.7), so a fair source
	// fails one position in ten thousand runs at most. A modulo-biased or
	// leading-zero-dropping generator fails at once.
	for pos, counts := range digitCount {
		expected := float64(n) / 10
		var chi2 float64
		for _, c := range counts {
			d := float64(c) - expected
			chi2 += d * d / expected
		}
		if chi2 > 35 {
			t.Fatalf("position %d: chi-square %.1f over %v", pos, chi2, counts)
		}
	}
}

func TestCodeHashBinding(t *testing.T) {
	t.Parallel()
	tok, _ := sealed.NewToken()
	other, _ := sealed.NewToken()
	code, stored := sealed.NewCode(testSecret, tok)
	otherSecret := bytes.Repeat([]byte("t"), sealed.CodeSecretSize)
	wrong := "000000"
	if code == wrong {
		wrong = "000001"
	}
	tests := []struct {
		name   string
		secret []byte
		token  string
		typed  string
		want   bool
	}{
		{"right code", testSecret, tok, code, true},
		{"spaced", testSecret, tok, code[:3] + " " + code[3:], true},
		{"hyphenated", testSecret, tok, code[:3] + "-" + code[3:], true},
		{"surrounding space", testSecret, tok, " " + code + "\n", true},
		{"wrong code", testSecret, tok, wrong, false},
		{"other link", testSecret, other, code, false},
		{"other secret", otherSecret, tok, code, false},
		{"too short", testSecret, tok, code[:5], false},
		{"extra digit", testSecret, tok, code + "0", false},
		{"letters", testSecret, tok, "abcdef", false},
		{"empty", testSecret, tok, "", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			if got := sealed.VerifyCode(tt.secret, tt.token, tt.typed, stored); got != tt.want {
				t.Fatalf("VerifyCode = %v, want %v", got, tt.want)
			}
		})
	}
}

func TestCodeHashIsKeyed(t *testing.T) {
	t.Parallel()
	tok, _ := sealed.NewToken()
	code, stored := sealed.NewCode(testSecret, tok)
	// Without the secret, trying every code against an unkeyed hash of
	// token and code finds nothing.
	for _, secret := range [][]byte{nil, {}, []byte(tok)} {
		if bytes.Equal(sealed.CodeHash(secret, tok, code), stored) {
			t.Fatal("code hash does not depend on the secret")
		}
	}
	if bytes.Contains(stored, []byte(code)) {
		t.Fatal("code stored in clear")
	}
}

func TestCheckCodeSecret(t *testing.T) {
	t.Parallel()
	if err := sealed.CheckCodeSecret(testSecret); err != nil {
		t.Fatal(err)
	}
	err := sealed.CheckCodeSecret(testSecret[:31])
	if !errors.Is(err, sealed.ErrWeakSecret) {
		t.Fatalf("err = %v", err)
	}
}
