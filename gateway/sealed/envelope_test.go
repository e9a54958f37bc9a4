package sealed_test

import (
	"bytes"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"testing"

	"github.com/sealpost/sealpost/gateway/sealed"
)

func TestSealOpenRoundTrip(t *testing.T) {
	t.Parallel()
	b := setup(t)
	tests := []struct {
		name      string
		plaintext []byte
	}{
		{"empty", []byte{}},
		{"one byte", []byte{0}},
		{"order items 2 KB", bytes.Repeat([]byte("Insulin glargine 100 U/mL x1\n"), 70)},
		{"one megabyte", bytes.Repeat([]byte{0xA5}, 1<<20)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			s, err := sealed.Seal(b.ctx, b.ring, "msg-1", tt.plaintext)
			if err != nil {
				t.Fatal(err)
			}
			if s.KeyID != b.ring.KeyID() {
				t.Fatalf("key id = %q, want current %q", s.KeyID, b.ring.KeyID())
			}
			if len(s.Nonce) != sealed.NonceSize {
				t.Fatalf("nonce is %d bytes", len(s.Nonce))
			}
			if len(s.Ciphertext) != len(tt.plaintext)+16 {
				t.Fatalf("ciphertext is %d bytes for %d", len(s.Ciphertext), len(tt.plaintext))
			}
			got, err := sealed.Open(b.ctx, b.ring, "msg-1", s)
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(got, tt.plaintext) {
				t.Fatal("round trip changed the payload")
			}
		})
	}
}

func TestSealUsesFreshKeyAndNonce(t *testing.T) {
	t.Parallel()
	b := setup(t)
	a, err := sealed.Seal(b.ctx, b.ring, "msg-1", []byte(canary))
	if err != nil {
		t.Fatal(err)
	}
	c, err := sealed.Seal(b.ctx, b.ring, "msg-1", []byte(canary))
	if err != nil {
		t.Fatal(err)
	}
	if bytes.Equal(a.WrappedKey, c.WrappedKey) || bytes.Equal(a.Nonce, c.Nonce) ||
		bytes.Equal(a.Ciphertext, c.Ciphertext) {
		t.Fatal("two seals of the same payload share key, nonce or ciphertext")
	}
}

func TestOpenRejectsTampering(t *testing.T) {
	t.Parallel()
	b := setup(t)
	other := setup(t)
	s, err := sealed.Seal(b.ctx, b.ring, "msg-1", []byte(canary))
	if err != nil {
		t.Fatal(err)
	}
	// A second key in the same ring, so a changed key id names a real key.
	if _, err := b.ring.AddKey(b.path); err != nil {
		t.Fatal(err)
	}
	flip := func(p []byte, i int) []byte {
		q := bytes.Clone(p)
		q[i] ^= 0x01
		return q
	}
	same := func(*sealed.Sealed) {}
	tests := []struct {
		name      string
		messageID string
		change    func(s *sealed.Sealed)
		kek       sealed.KeyEncrypter
		want      error
	}{
		{"ciphertext first byte", "msg-1", func(s *sealed.Sealed) {
			s.Ciphertext = flip(s.Ciphertext, 0)
		}, b.ring, sealed.ErrOpen},
		{"ciphertext tag", "msg-1", func(s *sealed.Sealed) {
			s.Ciphertext = flip(s.Ciphertext, len(s.Ciphertext)-1)
		}, b.ring, sealed.ErrOpen},
		{"ciphertext truncated", "msg-1", func(s *sealed.Sealed) {
			s.Ciphertext = s.Ciphertext[:len(s.Ciphertext)-1]
		}, b.ring, sealed.ErrOpen},
		{"ciphertext shorter than tag", "msg-1", func(s *sealed.Sealed) {
			s.Ciphertext = s.Ciphertext[:15]
		}, b.ring, sealed.ErrMalformed},
		{"nonce", "msg-1", func(s *sealed.Sealed) {
			s.Nonce = flip(s.Nonce, 5)
		}, b.ring, sealed.ErrOpen},
		{"nonce short", "msg-1", func(s *sealed.Sealed) {
			s.Nonce = s.Nonce[:8]
		}, b.ring, sealed.ErrMalformed},
		{"wrapped key body", "msg-1", func(s *sealed.Sealed) {
			s.WrappedKey = flip(s.WrappedKey, 20)
		}, b.ring, sealed.ErrUnwrap},
		{"wrapped key nonce", "msg-1", func(s *sealed.Sealed) {
			s.WrappedKey = flip(s.WrappedKey, 0)
		}, b.ring, sealed.ErrUnwrap},
		{"wrapped key truncated", "msg-1", func(s *sealed.Sealed) {
			s.WrappedKey = s.WrappedKey[:10]
		}, b.ring, sealed.ErrUnwrap},
		{"wrapped key empty", "msg-1", func(s *sealed.Sealed) {
			s.WrappedKey = nil
		}, b.ring, sealed.ErrMalformed},
		{"key id of another key in the ring", "msg-1", func(s *sealed.Sealed) {
			s.KeyID = b.ring.KeyID()
		}, b.ring, sealed.ErrUnwrap},
		{"unknown key id", "msg-1", func(s *sealed.Sealed) {
			s.KeyID = "mk-nope"
		}, b.ring, sealed.ErrUnknownKey},
		{"another keyring", "msg-1", same, other.ring, sealed.ErrUnknownKey},
		{"another message id", "msg-2", same, b.ring, sealed.ErrOpen},
		{"message id prefix", "msg-", same, b.ring, sealed.ErrOpen},
		{"empty message id", "", same, b.ring, sealed.ErrOpen},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			c := *s
			tt.change(&c)
			got, err := sealed.Open(b.ctx, tt.kek, tt.messageID, &c)
			if !errors.Is(err, tt.want) {
				t.Fatalf("err = %v, want %v", err, tt.want)
			}
			if got != nil {
				t.Fatal("a failed open returned bytes")
			}
			assertNoCanary(t, "error", err.Error())
		})
	}

	t.Run("nil sealed", func(t *testing.T) {
		t.Parallel()
		_, err := sealed.Open(b.ctx, b.ring, "msg-1", nil)
		if !errors.Is(err, sealed.ErrMalformed) {
			t.Fatalf("err = %v", err)
		}
	})
	t.Run("untouched still opens", func(t *testing.T) {
		t.Parallel()
		if _, err := sealed.Open(b.ctx, b.ring, "msg-1", s); err != nil {
			t.Fatal(err)
		}
	})
}

func TestRewrapAfterAddKey(t *testing.T) {
	t.Parallel()
	b := setup(t)
	oldID := b.ring.KeyID()
	s, err := sealed.Seal(b.ctx, b.ring, "msg-1", []byte(canary))
	if err != nil {
		t.Fatal(err)
	}
	before := *s
	before.WrappedKey = bytes.Clone(s.WrappedKey)

	newID, err := b.ring.AddKey(b.path)
	if err != nil {
		t.Fatal(err)
	}
	if newID == oldID || b.ring.KeyID() != newID {
		t.Fatalf("current key = %q after adding %q (old %q)", b.ring.KeyID(), newID, oldID)
	}

	r, err := sealed.Rewrap(b.ctx, b.ring, s)
	if err != nil {
		t.Fatal(err)
	}
	if r.KeyID != newID {
		t.Fatalf("rewrapped key id = %q, want %q", r.KeyID, newID)
	}
	if bytes.Contains(r.WrappedKey, before.WrappedKey) ||
		bytes.Equal(r.WrappedKey, s.WrappedKey) {
		t.Fatal("old wrapped key survives in the rewrapped payload")
	}
	if !bytes.Equal(r.Nonce, s.Nonce) || !bytes.Equal(r.Ciphertext, s.Ciphertext) {
		t.Fatal("rewrap changed the payload ciphertext")
	}
	if s.KeyID != oldID || !bytes.Equal(s.WrappedKey, before.WrappedKey) {
		t.Fatal("rewrap modified its input")
	}

	// A process that loads the rotated file opens both forms.
	reloaded, err := sealed.LoadKeyring(b.path)
	if err != nil {
		t.Fatal(err)
	}
	for name, v := range map[string]*sealed.Sealed{"rewrapped": r, "original": s} {
		got, err := sealed.Open(b.ctx, reloaded, "msg-1", v)
		if err != nil || string(got) != canary {
			t.Fatalf("%s: open after rotation: %v", name, err)
		}
	}

	// Under the new key only, the rewrapped payload opens and the old does not.
	onlyNew := newOnlyKeyring(t, b.path, newID)
	if _, err := sealed.Open(b.ctx, onlyNew, "msg-1", r); err != nil {
		t.Fatalf("rewrapped payload needs the old key: %v", err)
	}
	if _, err := sealed.Open(b.ctx, onlyNew, "msg-1", s); !errors.Is(err, sealed.ErrUnknownKey) {
		t.Fatalf("original opened without its key: %v", err)
	}
}

func TestRewrapUnderCurrentKeyIsACopy(t *testing.T) {
	t.Parallel()
	b := setup(t)
	s, err := sealed.Seal(b.ctx, b.ring, "msg-1", []byte(canary))
	if err != nil {
		t.Fatal(err)
	}
	r, err := sealed.Rewrap(b.ctx, b.ring, s)
	if err != nil {
		t.Fatal(err)
	}
	if r == s || r.KeyID != s.KeyID || !bytes.Equal(r.WrappedKey, s.WrappedKey) {
		t.Fatal("rewrap under the current key should return an equal copy")
	}
	r.WrappedKey[0] ^= 1
	if _, err := sealed.Open(b.ctx, b.ring, "msg-1", s); err != nil {
		t.Fatal("the copy shares memory with the input")
	}
}

func TestRewrapRefusesTamperedWrappedKey(t *testing.T) {
	t.Parallel()
	b := setup(t)
	s, err := sealed.Seal(b.ctx, b.ring, "msg-1", []byte(canary))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := b.ring.AddKey(b.path); err != nil {
		t.Fatal(err)
	}
	s.WrappedKey[len(s.WrappedKey)-1] ^= 1
	if _, err := sealed.Rewrap(b.ctx, b.ring, s); !errors.Is(err, sealed.ErrUnwrap) {
		t.Fatalf("err = %v, want ErrUnwrap", err)
	}
}

func TestCanaryNeverLeavesCiphertext(t *testing.T) {
	t.Parallel()
	b := setup(t)
	s, err := sealed.Seal(b.ctx, b.ring, "msg-1", []byte(canary))
	if err != nil {
		t.Fatal(err)
	}
	for name, field := range map[string][]byte{
		"key id": []byte(s.KeyID), "wrapped key": s.WrappedKey,
		"nonce": s.Nonce, "ciphertext": s.Ciphertext,
	} {
		if bytes.Contains(field, []byte(canary)) || bytes.Contains(field, []byte("PHI-CANARY")) {
			t.Fatalf("%s holds the plaintext", name)
		}
	}

	var logged strings.Builder
	slog.New(slog.NewJSONHandler(&logged, nil)).Info("sealed", "payload", s)
	printed := []string{
		fmt.Sprintf("%v", s), fmt.Sprintf("%+v", s), fmt.Sprintf("%#v", s), logged.String(),
	}
	for _, p := range printed {
		assertNoCanary(t, "printed form", p)
		assertNoSecret(t, "printed form", p, s.WrappedKey, s.Ciphertext)
	}
	if !strings.Contains(logged.String(), s.KeyID) {
		t.Fatalf("log line lacks the key id: %s", logged.String())
	}
}

func assertNoCanary(t *testing.T, what, text string) {
	t.Helper()
	if strings.Contains(text, "PHI-CANARY") || strings.Contains(text, "glargine") {
		t.Fatalf("%s carries plaintext: %q", what, text)
	}
}
