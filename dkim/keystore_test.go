package dkim

import (
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"
)

// setupKeystore opens a keystore in a fresh directory.
func setupKeystore(t *testing.T) *Keystore {
	t.Helper()
	s, err := OpenKeystore(filepath.Join(t.TempDir(), "dkim"))
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func TestKeystoreModes(t *testing.T) {
	t.Parallel()

	s := setupKeystore(t)
	if err := s.Save(fixedEd25519Key()); err != nil {
		t.Fatal(err)
	}

	info, err := os.Stat(s.Dir())
	if err != nil {
		t.Fatal(err)
	}
	if perm := info.Mode().Perm(); perm != 0o700 {
		t.Errorf("directory mode %04o, want 0700", perm)
	}

	entries, err := os.ReadDir(s.Dir())
	if err != nil {
		t.Fatal(err)
	}
	if len(entries) != 1 || entries[0].Name() != "ed2026._domainkey.example.test.pem" {
		t.Fatalf("directory holds %v, want one key file and no temporary file", entries)
	}
	info, err = entries[0].Info()
	if err != nil {
		t.Fatal(err)
	}
	if perm := info.Mode().Perm(); perm != 0o600 {
		t.Errorf("key file mode %04o, want 0600", perm)
	}
}

func TestKeystoreRefusesOpenKeyFile(t *testing.T) {
	t.Parallel()

	for _, mode := range []fs.FileMode{0o644, 0o640, 0o604, 0o660} {
		t.Run(mode.String(), func(t *testing.T) {
			t.Parallel()
			s := setupKeystore(t)
			if err := s.Save(fixedEd25519Key()); err != nil {
				t.Fatal(err)
			}
			path := filepath.Join(s.Dir(), "ed2026._domainkey.example.test.pem")
			if err := os.Chmod(path, mode); err != nil {
				t.Fatal(err)
			}
			content, err := os.ReadFile(path)
			if err != nil {
				t.Fatal(err)
			}

			_, loadErr := s.Load("example.test", "ed2026")
			_, listErr := s.List()
			_, domainErr := s.ForDomain("example.test")
			for _, err := range []error{loadErr, listErr, domainErr} {
				if !errors.Is(err, ErrKeyFileMode) {
					t.Fatalf("got %v, want ErrKeyFileMode", err)
				}
				if !strings.Contains(err.Error(), path) {
					t.Errorf("error does not name the file: %v", err)
				}
				assertNoContent(t, err, content)
			}
		})
	}
}

// assertNoContent fails if err quotes any line of a key file.
func assertNoContent(t *testing.T, err error, content []byte) {
	t.Helper()
	for _, line := range strings.Split(string(content), "\n") {
		if len(line) >= 16 && strings.Contains(err.Error(), line) {
			t.Errorf("error quotes the key file: %v", err)
		}
	}
}

func TestKeystoreRefusesOpenDirectory(t *testing.T) {
	t.Parallel()

	dir := filepath.Join(t.TempDir(), "dkim")
	if err := os.Mkdir(dir, 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(dir, 0o777); err != nil {
		t.Fatal(err)
	}
	if _, err := OpenKeystore(dir); !errors.Is(err, ErrKeyDirMode) {
		t.Fatalf("OpenKeystore = %v, want ErrKeyDirMode", err)
	}
}

func TestKeystoreSaveRefusesOverwrite(t *testing.T) {
	t.Parallel()

	s := setupKeystore(t)
	first := fixedEd25519Key()
	if err := s.Save(first); err != nil {
		t.Fatal(err)
	}
	second, err := Generate(Ed25519, "example.test", "ed2026")
	if err != nil {
		t.Fatal(err)
	}

	if err := s.Save(second); !errors.Is(err, ErrKeyExists) {
		t.Fatalf("second Save = %v, want ErrKeyExists", err)
	}
	loaded, err := s.Load("example.test", "ed2026")
	if err != nil {
		t.Fatal(err)
	}
	if loaded.TXTRecord() != first.TXTRecord() {
		t.Fatal("refused Save replaced the stored key")
	}

	if err := s.Replace(second); err != nil {
		t.Fatalf("Replace = %v", err)
	}
	loaded, err = s.Load("example.test", "ed2026")
	if err != nil {
		t.Fatal(err)
	}
	if loaded.TXTRecord() != second.TXTRecord() {
		t.Fatal("Replace did not replace the stored key")
	}
}

// TestKeystoreConcurrentSave checks that of many writers racing to store a
// key under one name exactly one succeeds.
func TestKeystoreConcurrentSave(t *testing.T) {
	t.Parallel()

	s := setupKeystore(t)
	const writers = 8
	errs := make([]error, writers)
	var wg sync.WaitGroup
	for i := range writers {
		wg.Go(func() {
			k, err := Generate(Ed25519, "example.test", "race")
			if err == nil {
				err = s.Save(k)
			}
			errs[i] = err
		})
	}
	wg.Wait()

	saved := 0
	for _, err := range errs {
		switch {
		case err == nil:
			saved++
		case !errors.Is(err, ErrKeyExists):
			t.Errorf("Save = %v", err)
		}
	}
	if saved != 1 {
		t.Fatalf("%d writers succeeded, want 1", saved)
	}
	entries, _ := os.ReadDir(s.Dir())
	if len(entries) != 1 {
		t.Errorf("directory holds %d entries, want 1", len(entries))
	}
}

func TestKeystoreListAndLoad(t *testing.T) {
	t.Parallel()

	s := setupKeystore(t)
	var keys []*Key
	for _, spec := range []struct {
		alg              Algorithm
		domain, selector string
	}{
		{Ed25519, "b.example.test", "s2"},
		{Ed25519, "a.example.test", "s9"},
		{Ed25519, "b.example.test", "s1"},
		{Ed25519, "a.example.test", "s3"},
	} {
		k, err := Generate(spec.alg, spec.domain, spec.selector)
		if err != nil {
			t.Fatal(err)
		}
		k.CreatedAt = fixedTime
		keys = append(keys, k)
		if err := s.Save(k); err != nil {
			t.Fatal(err)
		}
	}
	rsaKey := *sharedRSAKey()
	rsaKey.Domain = "b.example.test"
	rsaKey.Selector = "s5"
	if err := s.Save(&rsaKey); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(s.Dir(), "README"), []byte("notes"), 0o600); err != nil {
		t.Fatal(err)
	}

	list, err := s.List()
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, k := range list {
		names = append(names, k.Domain+"/"+k.Selector)
	}
	want := "a.example.test/s3 a.example.test/s9 b.example.test/s1 b.example.test/s2 " +
		"b.example.test/s5"
	if got := strings.Join(names, " "); got != want {
		t.Errorf("List = %s, want %s", got, want)
	}

	forB, err := s.ForDomain("B.Example.Test")
	if err != nil {
		t.Fatal(err)
	}
	names = names[:0]
	for _, k := range forB {
		names = append(names, k.Selector+":"+string(k.Algorithm))
	}
	if got := strings.Join(names, " "); got != "s5:rsa s1:ed25519 s2:ed25519" {
		t.Errorf("ForDomain = %s, want the rsa key first", got)
	}

	none, err := s.ForDomain("c.example.test")
	if err != nil || len(none) != 0 {
		t.Errorf("ForDomain(unknown) = %v, %v; want empty", none, err)
	}

	loaded, err := s.Load("a.example.test", "s9")
	if err != nil {
		t.Fatal(err)
	}
	if loaded.TXTRecord() != keys[1].TXTRecord() || !loaded.CreatedAt.Equal(fixedTime) ||
		loaded.Algorithm != Ed25519 {
		t.Errorf("Load returned %v created %v", loaded, loaded.CreatedAt)
	}

	if _, err := s.Load("a.example.test", "nope"); !errors.Is(err, ErrKeyNotFound) {
		t.Errorf("Load(missing) = %v, want ErrKeyNotFound", err)
	}
	if err := s.Delete("a.example.test", "s9"); err != nil {
		t.Fatal(err)
	}
	if err := s.Delete("a.example.test", "s9"); !errors.Is(err, ErrKeyNotFound) {
		t.Errorf("second Delete = %v, want ErrKeyNotFound", err)
	}
}

func TestKeystoreRejectsBadFiles(t *testing.T) {
	t.Parallel()

	ed := fixedEd25519Key()
	good, err := encodeKeyFile(ed)
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name    string
		content string
		want    error
	}{
		{"not PEM", "hello, this is not a key at all", ErrKeyFileInvalid},
		{"wrong PEM type", strings.ReplaceAll(string(good), "PRIVATE KEY", "PUBLIC KEY"),
			ErrKeyFileInvalid},
		{"corrupt DER", strings.Replace(string(good), "MC4CAQAw", "MC4CAQAx", 1),
			ErrKeyFileInvalid},
		{"two keys", string(good) + string(good), ErrKeyFileInvalid},
		{"oversized", string(good) + strings.Repeat("#", maxKeyFileSize), ErrKeyFileInvalid},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			s := setupKeystore(t)
			path := filepath.Join(s.Dir(), "ed2026._domainkey.example.test.pem")
			if err := os.WriteFile(path, []byte(tc.content), 0o600); err != nil {
				t.Fatal(err)
			}
			_, err := s.Load("example.test", "ed2026")
			if !errors.Is(err, tc.want) {
				t.Fatalf("Load = %v, want %v", err, tc.want)
			}
			assertNoContent(t, err, []byte(tc.content))
		})
	}
}

func TestKeystoreCreatedAtFallsBackToModTime(t *testing.T) {
	t.Parallel()

	s := setupKeystore(t)
	k := fixedEd25519Key()
	k.CreatedAt = time.Time{}
	if err := s.Save(k); err != nil {
		t.Fatal(err)
	}
	loaded, err := s.Load("example.test", "ed2026")
	if err != nil {
		t.Fatal(err)
	}
	if time.Since(loaded.CreatedAt) > time.Minute {
		t.Errorf("CreatedAt = %v, want the file time", loaded.CreatedAt)
	}
}
