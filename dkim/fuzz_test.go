package dkim

import (
	"bytes"
	"errors"
	"strings"
	"testing"

	"github.com/sealpost/sealpost/dkim/internal/dkimtest"
)

// FuzzSign checks, for any input, that Sign either refuses it with a
// sentinel error that quotes nothing of the message, or returns a
// well-formed signature field (lines within foldWidth, continuation lines
// indented, no empty line, final CRLF) that the independent verifier
// accepts.
func FuzzSign(f *testing.F) {
	f.Add(sampleMessage())
	f.Add(bl01Message())
	f.Add(bl02Message("Cc: a@example.test", "cc: b@example.test"))
	f.Add([]byte("From: a@example.test\r\n\r\n"))
	f.Add([]byte("From: a\r\n\tb\r\n\r\n \t\r\n\r\n"))
	f.Add([]byte("From: a@example.test\r\n\r\nok\n.\r\n"))

	key := fixedEd25519Key()
	s, err := NewSigner(key)
	if err != nil {
		f.Fatal(err)
	}
	sentinels := []error{ErrBareLineBreak, ErrMalformedMessage, ErrNoFrom}

	f.Fuzz(func(t *testing.T, msg []byte) {
		sig, err := s.SignAt(msg, fixedTime)
		if err != nil {
			for _, want := range sentinels {
				if err == want {
					return
				}
			}
			t.Fatalf("Sign = %v, want one of %v", err, sentinels)
		}

		if !bytes.HasSuffix(sig, crlf) {
			t.Fatalf("signature does not end in CRLF: %q", sig)
		}
		lines := strings.Split(strings.TrimSuffix(string(sig), "\r\n"), "\r\n")
		for i, line := range lines {
			if len(line) > foldWidth || strings.TrimSpace(line) == "" {
				t.Fatalf("bad signature line %d: %q", i, line)
			}
			if (i > 0) != (line[0] == ' ') {
				t.Fatalf("line %d is wrongly indented: %q", i, line)
			}
		}

		results, err := dkimtest.Verify(append(sig, msg...), func(string) (string, error) {
			return key.TXTRecord(), nil
		})
		if err != nil || len(results) == 0 || results[0].Err != nil {
			t.Fatalf("independent verifier: %v %+v", err, results)
		}
	})
}

// FuzzDecodeKeyFile checks that any key file content either loads as a
// usable key or fails with a sentinel error that quotes nothing of it.
func FuzzDecodeKeyFile(f *testing.F) {
	good, err := encodeKeyFile(fixedEd25519Key())
	if err != nil {
		f.Fatal(err)
	}
	f.Add(good)
	f.Add([]byte("-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n"))
	f.Add([]byte("Created: 2026-01-01T00:00:00Z\n"))

	sentinels := []error{ErrKeyFileInvalid, ErrKeyTooSmall, ErrUnknownAlgorithm}
	f.Fuzz(func(t *testing.T, data []byte) {
		k, err := decodeKeyFile(data)
		if err != nil {
			for _, want := range sentinels {
				if err == want {
					return
				}
			}
			t.Fatalf("decodeKeyFile = %v, want one of %v", err, sentinels)
		}
		if k.Signer == nil || k.Algorithm == "" {
			t.Fatalf("decoded key without signer or algorithm: %v", k)
		}
		if _, err := encodeKeyFile(k); err != nil && !errors.Is(err, ErrKeyFileInvalid) {
			t.Fatalf("decoded key does not encode again: %v", err)
		}
	})
}
