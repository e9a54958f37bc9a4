package sealed_test

import (
	"bytes"
	"encoding/base64"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/sealpost/sealpost/gateway/sealed"
)

// newOnlyKeyring loads a keyring holding just the key id of the file at path.
func newOnlyKeyring(t *testing.T, path, id string) *sealed.LocalKeyring {
	t.Helper()
	key := fileKeys(t, path)[id]
	p := filepath.Join(t.TempDir(), "one.keys")
	line := id + " " + base64.StdEncoding.EncodeToString(key) + "\n"
	if err := os.WriteFile(p, []byte(line), 0o600); err != nil {
		t.Fatal(err)
	}
	ring, err := sealed.LoadKeyring(p)
	if err != nil {
		t.Fatal(err)
	}
	return ring
}

func TestGenerateKeyringFile(t *testing.T) {
	t.Parallel()
	b := setup(t)

	fi, err := os.Stat(b.path)
	if err != nil {
		t.Fatal(err)
	}
	if fi.Mode().Perm() != 0o600 {
		t.Fatalf("mode = %v, want 0600", fi.Mode().Perm())
	}
	keys := fileKeys(t, b.path)
	if len(keys) != 1 {
		t.Fatalf("generated file holds %d keys", len(keys))
	}
	for id, k := range keys {
		if len(k) != sealed.MasterKeySize || id != b.ring.KeyID() {
			t.Fatalf("key %q of %d bytes; ring current %q", id, len(k), b.ring.KeyID())
		}
	}

	before, _ := os.ReadFile(b.path)
	if err := sealed.GenerateKeyringFile(b.path); !errors.Is(err, fs.ErrExist) {
		t.Fatalf("generating over an existing keyring: %v", err)
	}
	after, _ := os.ReadFile(b.path)
	if !bytes.Equal(before, after) {
		t.Fatal("an existing keyring file was changed")
	}
}

func TestLoadKeyringFileMode(t *testing.T) {
	t.Parallel()
	tests := []struct {
		mode os.FileMode
		ok   bool
	}{
		{0o600, true},
		{0o400, true},
		{0o700, true},
		{0o640, false},
		{0o644, false},
		{0o604, false},
		{0o620, false},
		{0o602, false},
		{0o666, false},
	}
	for _, tt := range tests {
		t.Run(fmt.Sprintf("%04o", tt.mode), func(t *testing.T) {
			t.Parallel()
			b := setup(t)
			if err := os.Chmod(b.path, tt.mode); err != nil {
				t.Fatal(err)
			}
			_, err := sealed.LoadKeyring(b.path)
			if tt.ok && err != nil {
				t.Fatalf("refused: %v", err)
			}
			if !tt.ok && !errors.Is(err, sealed.ErrKeyFileMode) {
				t.Fatalf("err = %v, want ErrKeyFileMode", err)
			}
		})
	}
}

func TestLoadKeyringFormat(t *testing.T) {
	t.Parallel()
	good := base64.StdEncoding.EncodeToString(bytes.Repeat([]byte{7}, 32))
	short := base64.StdEncoding.EncodeToString(bytes.Repeat([]byte{7}, 16))
	tests := []struct {
		name    string
		content string
		want    error
		current string
	}{
		{"one key", "a " + good + "\n", nil, "a"},
		{"comments and blanks", "# x\n\n  a " + good + "  \n# y\n", nil, "a"},
		{"last is current", "a " + good + "\nb " + good + "\n", nil, "b"},
		{"no trailing newline", "a " + good, nil, "a"},
		{"empty", "", sealed.ErrEmptyKeyring, ""},
		{"only comments", "# nothing\n", sealed.ErrEmptyKeyring, ""},
		{"missing key", "a\n", sealed.ErrKeyringFormat, ""},
		{"extra field", "a " + good + " x\n", sealed.ErrKeyringFormat, ""},
		{"short key", "a " + short + "\n", sealed.ErrKeyringFormat, ""},
		{"not base64", "a !!!!\n", sealed.ErrKeyringFormat, ""},
		{"bad id", "a/b " + good + "\n", sealed.ErrKeyringFormat, ""},
		{"long id", strings.Repeat("a", 65) + " " + good + "\n", sealed.ErrKeyringFormat, ""},
		{"duplicate id", "a " + good + "\na " + good + "\n", sealed.ErrKeyringFormat, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			p := filepath.Join(t.TempDir(), "k")
			if err := os.WriteFile(p, []byte(tt.content), 0o600); err != nil {
				t.Fatal(err)
			}
			ring, err := sealed.LoadKeyring(p)
			if !errors.Is(err, tt.want) {
				t.Fatalf("err = %v, want %v", err, tt.want)
			}
			if err != nil {
				assertNoSecret(t, "error", err.Error(), bytes.Repeat([]byte{7}, 16))
				if strings.Contains(err.Error(), good[:12]) {
					t.Fatalf("error echoes the file: %v", err)
				}
				return
			}
			if ring.KeyID() != tt.current {
				t.Fatalf("current = %q, want %q", ring.KeyID(), tt.current)
			}
		})
	}

	t.Run("missing file", func(t *testing.T) {
		t.Parallel()
		_, err := sealed.LoadKeyring(filepath.Join(t.TempDir(), "absent"))
		if !errors.Is(err, fs.ErrNotExist) {
			t.Fatalf("err = %v", err)
		}
	})
	t.Run("directory", func(t *testing.T) {
		t.Parallel()
		dir := t.TempDir()
		if err := os.Chmod(dir, 0o700); err != nil {
			t.Fatal(err)
		}
		if _, err := sealed.LoadKeyring(dir); !errors.Is(err, sealed.ErrKeyringFormat) {
			t.Fatalf("err = %v", err)
		}
	})
}

func TestAddKeyRotatesFile(t *testing.T) {
	t.Parallel()
	b := setup(t)
	first := b.ring.KeyID()
	firstKey := fileKeys(t, b.path)[first]

	second, err := b.ring.AddKey(b.path)
	if err != nil {
		t.Fatal(err)
	}
	third, err := b.ring.AddKey(b.path)
	if err != nil {
		t.Fatal(err)
	}

	if got := b.ring.KeyIDs(); strings.Join(got, ",") != first+","+second+","+third {
		t.Fatalf("key ids = %v", got)
	}
	keys := fileKeys(t, b.path)
	if len(keys) != 3 || !bytes.Equal(keys[first], firstKey) {
		t.Fatal("rotation lost or changed an existing key")
	}
	if bytes.Equal(keys[second], keys[third]) || bytes.Equal(keys[second], firstKey) {
		t.Fatal("rotation reused key material")
	}
	fi, err := os.Stat(b.path)
	if err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("rotated file mode = %v, %v", fi.Mode().Perm(), err)
	}
	reloaded, err := sealed.LoadKeyring(b.path)
	if err != nil || reloaded.KeyID() != third {
		t.Fatalf("reloaded current = %v, %v; want %q", reloaded, err, third)
	}
	entries, _ := os.ReadDir(filepath.Dir(b.path))
	if len(entries) != 1 {
		t.Fatalf("rotation left %d files behind", len(entries)-1)
	}
}

func TestAddKeyKeepsKeysFromOtherProcess(t *testing.T) {
	t.Parallel()
	b := setup(t)
	// Another process rotates the same file first.
	peer, err := sealed.LoadKeyring(b.path)
	if err != nil {
		t.Fatal(err)
	}
	peerID, err := peer.AddKey(b.path)
	if err != nil {
		t.Fatal(err)
	}

	ourID, err := b.ring.AddKey(b.path)
	if err != nil {
		t.Fatal(err)
	}
	keys := fileKeys(t, b.path)
	if _, ok := keys[peerID]; !ok || len(keys) != 3 {
		t.Fatalf("file holds %d keys; the peer's key is lost", len(keys))
	}
	if b.ring.KeyID() != ourID {
		t.Fatalf("current = %q, want %q", b.ring.KeyID(), ourID)
	}
	s, err := sealed.Seal(b.ctx, peer, "m", []byte("x"))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := sealed.Open(b.ctx, b.ring, "m", s); err != nil {
		t.Fatalf("payload sealed under the peer's key: %v", err)
	}
}

func TestAddKeyRefusesLooseFile(t *testing.T) {
	t.Parallel()
	b := setup(t)
	if err := os.Chmod(b.path, 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := b.ring.AddKey(b.path); !errors.Is(err, sealed.ErrKeyFileMode) {
		t.Fatalf("err = %v", err)
	}
	if len(b.ring.KeyIDs()) != 1 {
		t.Fatal("a failed rotation changed the keyring")
	}
}

func TestKeyringConcurrentUse(t *testing.T) {
	t.Parallel()
	b := setup(t)
	var wg sync.WaitGroup
	for i := range 8 {
		wg.Go(func() {
			id := fmt.Sprintf("msg-%d", i)
			s, err := sealed.Seal(b.ctx, b.ring, id, []byte(canary))
			if err != nil {
				t.Error(err)
				return
			}
			if _, err := sealed.Open(b.ctx, b.ring, id, s); err != nil {
				t.Error(err)
			}
		})
	}
	if _, err := b.ring.AddKey(b.path); err != nil {
		t.Error(err)
	}
	wg.Wait()
}

func TestKeyringRedaction(t *testing.T) {
	t.Parallel()
	b := setup(t)
	if _, err := b.ring.AddKey(b.path); err != nil {
		t.Fatal(err)
	}
	var secrets [][]byte
	for _, k := range fileKeys(t, b.path) {
		secrets = append(secrets, k)
	}

	var logged strings.Builder
	log := slog.New(slog.NewTextHandler(&logged, nil))
	log.Info("keyring loaded", "keyring", b.ring)
	forms := map[string]string{
		"%v": fmt.Sprintf("%v", b.ring), "%+v": fmt.Sprintf("%+v", b.ring),
		"%#v": fmt.Sprintf("%#v", b.ring), "String": b.ring.String(),
		"slog": logged.String(),
	}
	for name, text := range forms {
		assertNoSecret(t, name, text, secrets...)
	}
	if !strings.Contains(logged.String(), b.ring.KeyID()) {
		t.Fatalf("log line lacks the current key id: %s", logged.String())
	}
}
