package sealed_test

import (
	"context"
	"encoding/base64"
	"encoding/hex"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/sealpost/sealpost/gateway/sealed"
)

// canary is planted in payloads; it must never show up outside ciphertext.
const canary = "PHI-CANARY-7f3a9c Insulin glargine 100 U/mL"

// bundle is what a test needs: a keyring and the file it came from.
type bundle struct {
	ctx  context.Context
	path string
	ring *sealed.LocalKeyring
}

func setup(t *testing.T) *bundle {
	t.Helper()
	path := filepath.Join(t.TempDir(), "master.keys")
	if err := sealed.GenerateKeyringFile(path); err != nil {
		t.Fatal(err)
	}
	ring, err := sealed.LoadKeyring(path)
	if err != nil {
		t.Fatal(err)
	}
	return &bundle{ctx: context.Background(), path: path, ring: ring}
}

// fileKeys returns the raw master keys in a keyring file, by id, read
// independently of the package so tests can look for leaks.
func fileKeys(t *testing.T, path string) map[string][]byte {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	keys := map[string][]byte{}
	for line := range strings.Lines(string(data)) {
		f := strings.Fields(line)
		if len(f) != 2 || strings.HasPrefix(f[0], "#") {
			continue
		}
		k, err := base64.StdEncoding.DecodeString(f[1])
		if err != nil {
			t.Fatalf("key line does not decode: %v", err)
		}
		keys[f[0]] = k
	}
	return keys
}

// assertNoSecret fails if text holds any of the secrets, raw or in the
// encodings they could plausibly be printed in.
func assertNoSecret(t *testing.T, what, text string, secrets ...[]byte) {
	t.Helper()
	for _, s := range secrets {
		forms := []string{
			string(s),
			base64.StdEncoding.EncodeToString(s),
			base64.RawURLEncoding.EncodeToString(s),
			hex.EncodeToString(s),
			strings.Trim(fmt.Sprint(s), "[]"),
			fmt.Sprintf("%#v", s)[len("[]byte{"):],
		}
		for _, f := range forms {
			if len(f) >= 4 && strings.Contains(text, f) {
				t.Fatalf("%s leaks a secret: %q", what, text)
			}
		}
	}
}
