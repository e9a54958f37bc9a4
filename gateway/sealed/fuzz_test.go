package sealed_test

import (
	"bytes"
	"context"
	"errors"
	"path/filepath"
	"testing"

	"github.com/sealpost/sealpost/gateway/sealed"
)

// FuzzOpen feeds Open arbitrary sealed payloads. Invariants: it never panics,
// a failure returns no bytes and one of the package's errors, and success
// happens only for the genuine payload, returning its plaintext.
func FuzzOpen(f *testing.F) {
	path := filepath.Join(f.TempDir(), "master.keys")
	if err := sealed.GenerateKeyringFile(path); err != nil {
		f.Fatal(err)
	}
	ring, err := sealed.LoadKeyring(path)
	if err != nil {
		f.Fatal(err)
	}
	ctx := context.Background()
	genuine, err := sealed.Seal(ctx, ring, "msg-1", []byte(canary))
	if err != nil {
		f.Fatal(err)
	}

	f.Add("msg-1", genuine.KeyID, genuine.WrappedKey, genuine.Nonce, genuine.Ciphertext)
	f.Add("msg-2", genuine.KeyID, genuine.WrappedKey, genuine.Nonce, genuine.Ciphertext)
	f.Add("msg-1", genuine.KeyID, genuine.WrappedKey[:12], genuine.Nonce, genuine.Ciphertext)
	f.Add("msg-1", "", []byte{}, []byte{}, []byte{})
	f.Add("msg-1", "x\x00y", []byte{1}, make([]byte, 12), make([]byte, 16))

	f.Fuzz(func(t *testing.T, messageID, keyID string, wrapped, nonce, ciphertext []byte) {
		s := &sealed.Sealed{KeyID: keyID, WrappedKey: wrapped, Nonce: nonce, Ciphertext: ciphertext}
		got, err := sealed.Open(ctx, ring, messageID, s)
		if err != nil {
			if got != nil {
				t.Fatal("failed open returned bytes")
			}
			known := []error{
				sealed.ErrMalformed, sealed.ErrUnknownKey, sealed.ErrUnwrap, sealed.ErrOpen,
			}
			for _, k := range known {
				if errors.Is(err, k) {
					return
				}
			}
			t.Fatalf("unexpected error %v", err)
		}
		if messageID != "msg-1" || keyID != genuine.KeyID ||
			!bytes.Equal(wrapped, genuine.WrappedKey) || !bytes.Equal(nonce, genuine.Nonce) ||
			!bytes.Equal(ciphertext, genuine.Ciphertext) || string(got) != canary {
			t.Fatal("a forged payload opened")
		}
	})
}

// FuzzVerifyKnowledge feeds arbitrary stored hashes to the parser.
// Invariants: no panic, and an unusable hash never verifies.
func FuzzVerifyKnowledge(f *testing.F) {
	f.Add("$argon2id$v=19$m=8,t=1,p=1$c2FsdHNhbHRzYWx0c2FsdA$AAAAAAAAAAAAAAAAAAAAAA", "02139")
	f.Add("$argon2id$v=19$m=8,t=1,p=1$$", "")
	f.Add("$$$$$", "1980-07-04")
	f.Fuzz(func(t *testing.T, encoded, answer string) {
		ok, err := sealed.VerifyKnowledge(encoded, answer)
		if err != nil && ok {
			t.Fatal("verified with an error")
		}
	})
}
