package sealed

import (
	"bufio"
	"bytes"
	"context"
	"crypto/aes"
	"crypto/cipher"
	"crypto/rand"
	"encoding/base64"
	"encoding/hex"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"time"
)

const (
	// MasterKeySize is the length of a master key: 256 bits, for AES-256.
	MasterKeySize = 32

	// maxKeyIDLen bounds a key id so it fits a database column and a log
	// line.
	maxKeyIDLen = 64

	// maxKeyringFileSize bounds what LoadKeyring reads; a keyring of a
	// thousand rotations is about 100 KB.
	maxKeyringFileSize = 1 << 20

	// keyringHeader opens every keyring file written by this package.
	keyringHeader = "# sealpost keyring v1: one master key a line, " +
		"\"<id> <base64 key>\"; the last is current. Keep secret (mode 0600).\n"

	// wrapLabel prefixes the associated data of a wrapped data key, so a
	// wrapped key can only be opened under the key id it was wrapped with.
	wrapLabel = "sealpost wrapped data key v1\x00"
)

// KeyEncrypter wraps and unwraps data keys under key-encryption keys. A
// LocalKeyring implements it; so can a KMS client.
type KeyEncrypter interface {
	// KeyID names the current key-encryption key, the one Wrap uses.
	KeyID() string
	// Wrap encrypts dataKey under the current key-encryption key and
	// returns the result with that key's id.
	Wrap(ctx context.Context, dataKey []byte) (wrapped []byte, keyID string, err error)
	// Unwrap decrypts a data key wrapped under the key named keyID.
	Unwrap(ctx context.Context, keyID string, wrapped []byte) ([]byte, error)
}

// secretKey is key material. It formats as a fixed mark under every fmt verb,
// so a stray %v or %#v never prints it.
type secretKey []byte

// Format implements fmt.Formatter.
func (secretKey) Format(f fmt.State, _ rune) { _, _ = f.Write([]byte("[redacted]")) }

// LogValue implements slog.LogValuer.
func (secretKey) LogValue() slog.Value { return slog.StringValue("[redacted]") }

// masterKey is one key-encryption key of a LocalKeyring.
type masterKey struct {
	id  string
	key secretKey
	// aead is AES-256-GCM under key, built once.
	aead cipher.AEAD
}

// LocalKeyring is a KeyEncrypter backed by master keys read from a file
// (SEALPOST_MASTER_KEY_FILE). The last key in the file is current: Wrap uses
// it; Unwrap accepts any key in the ring. It is safe for concurrent use.
//
// It wraps a data key with AES-256-GCM under the master key, a fresh random
// 96-bit nonce, and the key id as associated data; the wrapped form is
// nonce || ciphertext || tag.
type LocalKeyring struct {
	mu sync.RWMutex
	// keys are pointers so that even a printed copy of the struct shows
	// addresses, not key material. Oldest first; the last is current.
	keys []*masterKey
}

// LoadKeyring reads the keyring file at path. It refuses a file that its
// group or others may read or write, and a file with no key.
func LoadKeyring(path string) (*LocalKeyring, error) {
	keys, err := readKeyringFile(path)
	if err != nil {
		return nil, err
	}
	return &LocalKeyring{keys: keys}, nil
}

// GenerateKeyringFile creates a keyring file at path, mode 0600, holding one
// fresh master key. It never replaces a file: if path exists the error
// matches fs.ErrExist.
func GenerateKeyringFile(path string) error {
	mk, err := newMasterKey(nil)
	if err != nil {
		return err
	}
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return fmt.Errorf("create keyring file: %w", err)
	}
	werr := writeKeys(f, []*masterKey{mk})
	if cerr := f.Close(); werr == nil {
		werr = cerr
	}
	if werr != nil {
		_ = os.Remove(path)
		return fmt.Errorf("write keyring file: %w", werr)
	}
	return nil
}

// AddKey rotates the keyring: it appends a fresh master key to the file at
// path and makes it current, both in the file and in k. The file is replaced
// atomically (a temporary file in the same directory, synced, then renamed),
// so a crash leaves either the old or the new keyring, never half of one.
//
// Keys already in the file are kept as they are; keys k holds that the file
// lacks are written too, so no key k can unwrap with is ever dropped. A key
// id present in both with different key material is an error.
func (k *LocalKeyring) AddKey(path string) (newID string, err error) {
	k.mu.Lock()
	defer k.mu.Unlock()

	onDisk, err := readKeyringFile(path)
	if err != nil {
		return "", err
	}

	merged, err := mergeKeys(onDisk, k.keys)
	if err != nil {
		return "", err
	}

	mk, err := newMasterKey(merged)
	if err != nil {
		return "", err
	}
	merged = append(merged, mk)

	if err := replaceKeyringFile(path, merged); err != nil {
		return "", err
	}
	k.keys = merged
	return mk.id, nil
}

// KeyID returns the id of the current master key.
func (k *LocalKeyring) KeyID() string {
	k.mu.RLock()
	defer k.mu.RUnlock()
	return k.keys[len(k.keys)-1].id
}

// KeyIDs returns the ids of all master keys, oldest first.
func (k *LocalKeyring) KeyIDs() []string {
	k.mu.RLock()
	defer k.mu.RUnlock()
	ids := make([]string, len(k.keys))
	for i, mk := range k.keys {
		ids[i] = mk.id
	}
	return ids
}

// Wrap encrypts dataKey under the current master key.
func (k *LocalKeyring) Wrap(ctx context.Context, dataKey []byte) ([]byte, string, error) {
	if err := ctx.Err(); err != nil {
		return nil, "", err
	}
	k.mu.RLock()
	mk := k.keys[len(k.keys)-1]
	k.mu.RUnlock()

	nonce := make([]byte, mk.aead.NonceSize())
	_, _ = rand.Read(nonce)
	return mk.aead.Seal(nonce, nonce, dataKey, wrapAD(mk.id)), mk.id, nil
}

// Unwrap decrypts a data key wrapped under the master key named keyID.
func (k *LocalKeyring) Unwrap(ctx context.Context, keyID string, wrapped []byte) ([]byte, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	mk, ok := k.lookup(keyID)
	if !ok {
		if validKeyID(keyID) {
			return nil, fmt.Errorf("key id %q: %w", keyID, ErrUnknownKey)
		}
		return nil, ErrUnknownKey
	}

	ns := mk.aead.NonceSize()
	if len(wrapped) < ns+mk.aead.Overhead() {
		return nil, ErrUnwrap
	}
	dataKey, err := mk.aead.Open(nil, wrapped[:ns], wrapped[ns:], wrapAD(mk.id))
	if err != nil {
		return nil, ErrUnwrap
	}
	return dataKey, nil
}

// String describes the keyring without its key material.
func (k *LocalKeyring) String() string {
	k.mu.RLock()
	defer k.mu.RUnlock()
	current := k.keys[len(k.keys)-1].id
	return fmt.Sprintf("LocalKeyring(current=%s, keys=%d)", current, len(k.keys))
}

// GoString is String, so %#v prints no key material either.
func (k *LocalKeyring) GoString() string { return k.String() }

// LogValue implements slog.LogValuer: the current key id and the number of
// keys, never key material.
func (k *LocalKeyring) LogValue() slog.Value {
	k.mu.RLock()
	defer k.mu.RUnlock()
	return slog.GroupValue(
		slog.String("current_key_id", k.keys[len(k.keys)-1].id),
		slog.Int("keys", len(k.keys)),
	)
}

func (k *LocalKeyring) lookup(id string) (*masterKey, bool) {
	k.mu.RLock()
	defer k.mu.RUnlock()
	for _, mk := range k.keys {
		if mk.id == id {
			return mk, true
		}
	}
	return nil, false
}

func wrapAD(keyID string) []byte {
	return append([]byte(wrapLabel), keyID...)
}

// newMasterKey draws a fresh 256-bit key with an id unlike any in existing.
// Ids read mk-<UTC date>-<6 random hex digits>, so operators can tell keys
// apart and see roughly when each was made.
func newMasterKey(existing []*masterKey) (*masterKey, error) {
	key := make([]byte, MasterKeySize)
	_, _ = rand.Read(key)
	for {
		var r [3]byte
		_, _ = rand.Read(r[:])
		id := "mk-" + time.Now().UTC().Format("20060102") + "-" + hex.EncodeToString(r[:])
		taken := false
		for _, mk := range existing {
			taken = taken || mk.id == id
		}
		if !taken {
			return buildMasterKey(id, key)
		}
	}
}

func buildMasterKey(id string, key []byte) (*masterKey, error) {
	block, err := aes.NewCipher(key)
	if err != nil {
		return nil, fmt.Errorf("build key cipher: %w", err)
	}
	aead, err := cipher.NewGCM(block)
	if err != nil {
		return nil, fmt.Errorf("build key cipher: %w", err)
	}
	return &masterKey{id: id, key: key, aead: aead}, nil
}

// validKeyID reports whether id is 1–64 characters of [A-Za-z0-9._-].
func validKeyID(id string) bool {
	if id == "" || len(id) > maxKeyIDLen {
		return false
	}
	for _, c := range []byte(id) {
		ok := c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' ||
			c == '.' || c == '_' || c == '-'
		if !ok {
			return false
		}
	}
	return true
}

// readKeyringFile opens path, checks its mode on the opened file (so the
// check and the read see the same file) and parses it.
func readKeyringFile(path string) ([]*masterKey, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("open keyring file: %w", err)
	}
	defer f.Close()

	fi, err := f.Stat()
	if err != nil {
		return nil, fmt.Errorf("stat keyring file: %w", err)
	}
	if !fi.Mode().IsRegular() {
		return nil, fmt.Errorf("keyring file is not a regular file: %w", ErrKeyringFormat)
	}
	// Windows has no POSIX permission bits to check.
	if runtime.GOOS != "windows" && fi.Mode().Perm()&0o077 != 0 {
		return nil, ErrKeyFileMode
	}

	data, err := io.ReadAll(io.LimitReader(f, maxKeyringFileSize+1))
	defer clear(data)
	if err != nil {
		return nil, fmt.Errorf("read keyring file: %w", err)
	}
	if len(data) > maxKeyringFileSize {
		return nil, fmt.Errorf("keyring file too large: %w", ErrKeyringFormat)
	}
	return parseKeys(data)
}

// parseKeys reads the keyring format: blank lines and lines starting with #
// are ignored; every other line is "<id> <base64 key>". Errors name the line
// number, never its content.
func parseKeys(data []byte) ([]*masterKey, error) {
	var keys []*masterKey
	sc := bufio.NewScanner(bytes.NewReader(data))
	for line := 1; sc.Scan(); line++ {
		text := strings.TrimSpace(sc.Text())
		if text == "" || strings.HasPrefix(text, "#") {
			continue
		}
		fields := strings.Fields(text)
		if len(fields) != 2 || !validKeyID(fields[0]) {
			return nil, fmt.Errorf("line %d: %w", line, ErrKeyringFormat)
		}
		key, err := base64.StdEncoding.DecodeString(fields[1])
		if err != nil || len(key) != MasterKeySize {
			return nil, fmt.Errorf("line %d: key is not %d base64 bytes: %w",
				line, MasterKeySize, ErrKeyringFormat)
		}
		for _, mk := range keys {
			if mk.id == fields[0] {
				return nil, fmt.Errorf("line %d: duplicate key id: %w", line, ErrKeyringFormat)
			}
		}
		mk, err := buildMasterKey(fields[0], key)
		if err != nil {
			return nil, err
		}
		keys = append(keys, mk)
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("scan keyring file: %w", ErrKeyringFormat)
	}
	if len(keys) == 0 {
		return nil, ErrEmptyKeyring
	}
	return keys, nil
}

// mergeKeys returns the keys of onDisk followed by those of inMemory that
// onDisk lacks, keeping each list's order.
func mergeKeys(onDisk, inMemory []*masterKey) ([]*masterKey, error) {
	merged := append([]*masterKey(nil), onDisk...)
	for _, mem := range inMemory {
		found := false
		for _, disk := range onDisk {
			if disk.id != mem.id {
				continue
			}
			if !bytes.Equal(disk.key, mem.key) {
				return nil, fmt.Errorf("key id %q differs between file and memory: %w",
					mem.id, ErrKeyringFormat)
			}
			found = true
		}
		if !found {
			merged = append(merged, mem)
		}
	}
	return merged, nil
}

func writeKeys(f *os.File, keys []*masterKey) error {
	var b bytes.Buffer
	defer func() { clear(b.Bytes()) }()
	b.WriteString(keyringHeader)
	for _, mk := range keys {
		b.WriteString(mk.id)
		b.WriteByte(' ')
		b.WriteString(base64.StdEncoding.EncodeToString(mk.key))
		b.WriteByte('\n')
	}
	if _, err := f.Write(b.Bytes()); err != nil {
		return err
	}
	return f.Sync()
}

// replaceKeyringFile writes keys to a temporary file beside path and renames
// it over path, then syncs the directory so the rename is durable.
func replaceKeyringFile(path string, keys []*masterKey) error {
	dir := filepath.Dir(path)
	tmp, err := os.CreateTemp(dir, ".keyring-*")
	if err != nil {
		return fmt.Errorf("create temporary keyring file: %w", err)
	}
	defer os.Remove(tmp.Name()) // a no-op once renamed

	// CreateTemp already uses 0600; say so explicitly for the reader.
	werr := tmp.Chmod(0o600)
	if werr == nil {
		werr = writeKeys(tmp, keys)
	}
	if cerr := tmp.Close(); werr == nil {
		werr = cerr
	}
	if werr != nil {
		return fmt.Errorf("write temporary keyring file: %w", werr)
	}
	if err := os.Rename(tmp.Name(), path); err != nil {
		return fmt.Errorf("replace keyring file: %w", err)
	}
	if d, err := os.Open(dir); err == nil {
		_ = d.Sync()
		_ = d.Close()
	}
	return nil
}

// Compile-time check.
var _ KeyEncrypter = (*LocalKeyring)(nil)
