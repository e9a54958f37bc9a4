package dkim

import (
	"bytes"
	"flag"
	"os"
	"path/filepath"
	"testing"
)

var update = flag.Bool("update", false, "rewrite golden files in testdata")

// TestGoldenSignature pins the exact DKIM-Signature field for a fixed
// Ed25519 key, time and message. Ed25519 signatures are deterministic, so
// any change to canonicalization, tag order or folding shows up as a diff.
func TestGoldenSignature(t *testing.T) {
	t.Parallel()

	tests := []struct {
		name string
		msg  []byte
	}{
		{"ed25519-sample", sampleMessage()},
		{"ed25519-bl01", bl01Message()},
	}
	key := fixedEd25519Key()
	s, err := NewSigner(key)
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			got, err := s.SignAt(tc.msg, fixedTime)
			if err != nil {
				t.Fatal(err)
			}

			path := filepath.Join("testdata", tc.name+".golden")
			if *update {
				if err := os.WriteFile(path, got, 0o644); err != nil {
					t.Fatal(err)
				}
			}
			want, err := os.ReadFile(path)
			if err != nil {
				t.Fatalf("%v (run go test -update to create it)", err)
			}
			if !bytes.Equal(got, want) {
				t.Errorf("signature differs from %s\ngot:\n%s\nwant:\n%s", path, got, want)
			}
			requireVerified(t, append(got, tc.msg...), 1, key)
		})
	}
}
