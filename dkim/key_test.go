package dkim

import (
	"bytes"
	"crypto/ed25519"
	"crypto/rsa"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"testing"
)

func TestParseAlgorithm(t *testing.T) {
	t.Parallel()

	tests := []struct {
		in   string
		want Algorithm
		err  error
	}{
		{"rsa", RSA, nil},
		{"RSA", RSA, nil},
		{" ed25519 ", Ed25519, nil},
		{"Ed25519", Ed25519, nil},
		{"rsa-sha256", "", ErrUnknownAlgorithm},
		{"ecdsa", "", ErrUnknownAlgorithm},
		{"", "", ErrUnknownAlgorithm},
	}
	for _, tc := range tests {
		t.Run(tc.in, func(t *testing.T) {
			t.Parallel()
			got, err := ParseAlgorithm(tc.in)
			if got != tc.want || !errors.Is(err, tc.err) {
				t.Fatalf(
					"ParseAlgorithm(%q) = %q, %v; want %q, %v",
					tc.in,
					got,
					err,
					tc.want,
					tc.err,
				)
			}
		})
	}
}

func TestGenerateNames(t *testing.T) {
	t.Parallel()

	tests := []struct {
		name, domain, selector string
		wantDomain, wantSel    string
		err                    error
	}{
		{"lower case kept", "example.test", "s1", "example.test", "s1", nil},
		{"upper case folded", "Mail.Example.TEST", "S2026-A", "mail.example.test", "s2026-a", nil},
		{"trailing dot dropped", "example.test.", "s1", "example.test", "s1", nil},
		{"U-label to A-label", "bücher.example", "s1", "xn--bcher-kva.example", "s1", nil},
		{"dotted selector", "example.test", "eu.s1", "example.test", "eu.s1", nil},
		{"empty domain", "", "s1", "", "", ErrInvalidDomain},
		{"underscore domain", "ex_ample.test", "s1", "", "", ErrInvalidDomain},
		{"domain with space", "example .test", "s1", "", "", ErrInvalidDomain},
		{"empty selector", "example.test", "", "", "", ErrInvalidSelector},
		{"selector with underscore", "example.test", "_domainkey", "", "", ErrInvalidSelector},
		{"selector with slash", "example.test", "../s1", "", "", ErrInvalidSelector},
		{"selector hyphen edge", "example.test", "-s1", "", "", ErrInvalidSelector},
		{"label too long", strings.Repeat("a", 64) + ".test", "s1", "", "", ErrInvalidDomain},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			k, err := Generate(Ed25519, tc.domain, tc.selector)
			if !errors.Is(err, tc.err) {
				t.Fatalf("Generate = %v, want %v", err, tc.err)
			}
			if err != nil {
				return
			}
			if k.Domain != tc.wantDomain || k.Selector != tc.wantSel {
				t.Errorf("got %s/%s, want %s/%s", k.Domain, k.Selector, tc.wantDomain, tc.wantSel)
			}
			if k.CreatedAt.IsZero() {
				t.Error("CreatedAt not set")
			}
		})
	}

	if _, err := Generate("dsa", "example.test", "s1"); !errors.Is(err, ErrUnknownAlgorithm) {
		t.Errorf("Generate(dsa) = %v, want ErrUnknownAlgorithm", err)
	}
}

func TestKeyRecords(t *testing.T) {
	t.Parallel()

	t.Run("rsa", func(t *testing.T) {
		t.Parallel()
		k := sharedRSAKey()
		if got := k.RecordName(); got != "rsa2026._domainkey.example.test" {
			t.Errorf("RecordName = %q", got)
		}
		rec := k.TXTRecord()
		p, ok := strings.CutPrefix(rec, "v=DKIM1; k=rsa; p=")
		if !ok {
			t.Fatalf("TXTRecord = %q", rec)
		}
		der, err := base64.StdEncoding.DecodeString(p)
		if err != nil {
			t.Fatal(err)
		}
		pub, err := x509.ParsePKIXPublicKey(der)
		if err != nil {
			t.Fatal(err)
		}
		rsaPub, ok := pub.(*rsa.PublicKey)
		if !ok || rsaPub.N.BitLen() != DefaultRSABits || !rsaPub.Equal(k.Signer.Public()) {
			t.Fatalf("p= does not hold the %d-bit public key", DefaultRSABits)
		}

		parts := k.TXTStrings()
		if len(parts) < 2 || strings.Join(parts, "") != rec {
			t.Fatalf("TXTStrings does not split and rejoin the record: %q", parts)
		}
		for _, s := range parts {
			if len(s) > 255 {
				t.Errorf("TXT string of %d octets", len(s))
			}
		}
		zone := k.ZoneRecord()
		if !strings.HasPrefix(zone, "rsa2026._domainkey.example.test. IN TXT ( \"v=DKIM1;") ||
			!strings.HasSuffix(zone, "\" )") {
			t.Errorf("ZoneRecord = %q", zone)
		}
	})

	t.Run("ed25519", func(t *testing.T) {
		t.Parallel()
		k := fixedEd25519Key()
		rec := k.TXTRecord()
		p, ok := strings.CutPrefix(rec, "v=DKIM1; k=ed25519; p=")
		if !ok {
			t.Fatalf("TXTRecord = %q", rec)
		}
		raw, err := base64.StdEncoding.DecodeString(p)
		if err != nil {
			t.Fatal(err)
		}
		pub := k.Signer.Public().(ed25519.PublicKey)
		if len(raw) != ed25519.PublicKeySize || !bytes.Equal(raw, pub) {
			t.Fatalf("p= is not the raw 32-byte key (RFC 8463)")
		}
		if parts := k.TXTStrings(); len(parts) != 1 {
			t.Errorf("TXTStrings = %q, want one string", parts)
		}
	})
}

// TestKeyRedaction checks that logging or printing a key shows where it is
// published and never its private half.
func TestKeyRedaction(t *testing.T) {
	t.Parallel()

	k := sharedRSAKey()
	priv := k.Signer.(*rsa.PrivateKey)
	secrets := []string{priv.D.String(), priv.Primes[0].String(), fmt.Sprintf("%x", priv.D)}
	secrets = append(secrets, priv.D.Text(16)[:16])

	var logged bytes.Buffer
	logger := slog.New(slog.NewJSONHandler(&logged, nil))
	logger.Info("key", "key", k)
	logger.Info("key value", "key", *k)
	var text bytes.Buffer
	slog.New(slog.NewTextHandler(&text, nil)).Info("key", "key", *k, "ptr", k)
	encoded, err := json.Marshal(map[string]any{"ptr": k, "value": *k})
	if err != nil {
		t.Fatal(err)
	}

	outputs := map[string]string{
		"slog":   logged.String(),
		"text":   text.String(),
		"json":   string(encoded),
		"%v":     fmt.Sprintf("%v", k),
		"%+v":    fmt.Sprintf("%+v", *k),
		"%#v":    fmt.Sprintf("%#v", *k),
		"Sprint": fmt.Sprint(k),
	}
	for verb, out := range outputs {
		for _, secret := range secrets {
			if strings.Contains(out, secret) {
				t.Errorf("%s output contains private key material: %s", verb, out)
			}
		}
		if !strings.Contains(out, "rsa2026") {
			t.Errorf("%s output does not name the selector: %s", verb, out)
		}
	}
	if !strings.Contains(logged.String(), `"key":{"domain":"example.test","selector":"rsa2026",`+
		`"algorithm":"rsa"}`) {
		t.Errorf("slog output = %s", logged.String())
	}
}
