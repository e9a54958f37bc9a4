package sealed

import (
	"bytes"
	"context"
	"crypto/aes"
	"crypto/cipher"
	"crypto/rand"
	"fmt"
	"log/slog"
)

const (
	// DataKeySize is the length of the per-message data key: 256 bits.
	DataKeySize = 32

	// NonceSize is the length of the AES-GCM nonce of a sealed payload.
	NonceSize = 12

	// tagSize is the length of the AES-GCM authentication tag.
	tagSize = 16

	// sealLabel prefixes the associated data of a sealed payload; the
	// message id follows it, so a payload opens only for its own message.
	sealLabel = "sealpost sealed payload v1\x00"
)

// Sealed is a sensitive payload as the store keeps it: the payload encrypted
// under a fresh data key, and that data key wrapped under the key-encryption
// key named KeyID. None of its fields is secret on its own.
type Sealed struct {
	KeyID      string
	WrappedKey []byte
	Nonce      []byte
	Ciphertext []byte
}

// String describes s without its bytes.
func (s *Sealed) String() string {
	if s == nil {
		return "Sealed(nil)"
	}
	return fmt.Sprintf("Sealed(key_id=%s, ciphertext_bytes=%d)", s.KeyID, len(s.Ciphertext))
}

// GoString is String.
func (s *Sealed) GoString() string { return s.String() }

// LogValue implements slog.LogValuer: the key id and sizes only.
func (s *Sealed) LogValue() slog.Value {
	if s == nil {
		return slog.StringValue("nil")
	}
	return slog.GroupValue(
		slog.String("key_id", s.KeyID),
		slog.Int("ciphertext_bytes", len(s.Ciphertext)),
	)
}

// Seal encrypts plaintext for the message messageID. It draws a fresh random
// 256-bit data key, encrypts plaintext with AES-256-GCM under it (random
// 96-bit nonce, messageID bound as associated data), and wraps the data key
// with kek. The data key is erased from memory before Seal returns.
func Seal(
	ctx context.Context, kek KeyEncrypter, messageID string, plaintext []byte,
) (*Sealed, error) {
	dataKey := make([]byte, DataKeySize)
	defer clear(dataKey)
	_, _ = rand.Read(dataKey)

	aead, err := newAEAD(dataKey)
	if err != nil {
		return nil, err
	}
	nonce := make([]byte, NonceSize)
	_, _ = rand.Read(nonce)
	ciphertext := aead.Seal(nil, nonce, plaintext, sealAD(messageID))

	wrapped, keyID, err := kek.Wrap(ctx, dataKey)
	if err != nil {
		return nil, fmt.Errorf("wrap data key: %w", err)
	}
	return &Sealed{KeyID: keyID, WrappedKey: wrapped, Nonce: nonce, Ciphertext: ciphertext}, nil
}

// Open unwraps the data key of s with kek and decrypts the payload of the
// message messageID. Any change to s, or another message id, makes it fail
// with an error matching ErrOpen, ErrUnwrap, ErrUnknownKey or ErrMalformed.
func Open(ctx context.Context, kek KeyEncrypter, messageID string, s *Sealed) ([]byte, error) {
	if err := checkSealed(s); err != nil {
		return nil, err
	}

	dataKey, err := kek.Unwrap(ctx, s.KeyID, s.WrappedKey)
	if err != nil {
		return nil, fmt.Errorf("unwrap data key: %w", err)
	}
	defer clear(dataKey)
	if len(dataKey) != DataKeySize {
		return nil, fmt.Errorf("unwrapped data key has the wrong size: %w", ErrMalformed)
	}

	aead, err := newAEAD(dataKey)
	if err != nil {
		return nil, err
	}
	plaintext, err := aead.Open(nil, s.Nonce, s.Ciphertext, sealAD(messageID))
	if err != nil {
		return nil, ErrOpen
	}
	return plaintext, nil
}

// Rewrap moves s to the current key-encryption key of kek: it unwraps the
// data key under s.KeyID and wraps it again under kek.KeyID(). The payload
// is never decrypted; nonce and ciphertext are carried over unchanged. If s
// is already under the current key, Rewrap returns a copy of s without
// touching kek. s itself is never modified.
func Rewrap(ctx context.Context, kek KeyEncrypter, s *Sealed) (*Sealed, error) {
	if err := checkSealed(s); err != nil {
		return nil, err
	}
	out := &Sealed{
		KeyID:      s.KeyID,
		WrappedKey: bytes.Clone(s.WrappedKey),
		Nonce:      bytes.Clone(s.Nonce),
		Ciphertext: bytes.Clone(s.Ciphertext),
	}
	if s.KeyID == kek.KeyID() {
		return out, nil
	}

	dataKey, err := kek.Unwrap(ctx, s.KeyID, s.WrappedKey)
	if err != nil {
		return nil, fmt.Errorf("unwrap data key: %w", err)
	}
	defer clear(dataKey)
	if len(dataKey) != DataKeySize {
		return nil, fmt.Errorf("unwrapped data key has the wrong size: %w", ErrMalformed)
	}

	wrapped, keyID, err := kek.Wrap(ctx, dataKey)
	if err != nil {
		return nil, fmt.Errorf("wrap data key: %w", err)
	}
	out.KeyID, out.WrappedKey = keyID, wrapped
	return out, nil
}

func checkSealed(s *Sealed) error {
	switch {
	case s == nil:
		return fmt.Errorf("nil: %w", ErrMalformed)
	case s.KeyID == "" || len(s.WrappedKey) == 0:
		return fmt.Errorf("no wrapped data key: %w", ErrMalformed)
	case len(s.Nonce) != NonceSize:
		return fmt.Errorf("nonce is not %d bytes: %w", NonceSize, ErrMalformed)
	case len(s.Ciphertext) < tagSize:
		return fmt.Errorf("ciphertext shorter than its tag: %w", ErrMalformed)
	}
	return nil
}

func newAEAD(key []byte) (cipher.AEAD, error) {
	block, err := aes.NewCipher(key)
	if err != nil {
		return nil, fmt.Errorf("build payload cipher: %w", err)
	}
	aead, err := cipher.NewGCM(block)
	if err != nil {
		return nil, fmt.Errorf("build payload cipher: %w", err)
	}
	return aead, nil
}

func sealAD(messageID string) []byte {
	return append([]byte(sealLabel), messageID...)
}
