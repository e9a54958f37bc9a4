package dkim

import (
	"bufio"
	"bytes"
	"cmp"
	"crypto"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"
)

const (
	// keyDirMode is the mode of a key directory the Keystore creates.
	keyDirMode = 0o700

	// keyFileMode is the mode of every key file the Keystore writes.
	keyFileMode = 0o600

	// keyFileSuffix ends the name of every key file.
	keyFileSuffix = ".pem"

	// keyFileInfix separates selector and domain in a key file name, which
	// is the key's record name plus keyFileSuffix. Selector labels cannot
	// contain an underscore, so the split is unambiguous.
	keyFileInfix = "._domainkey."

	// maxKeyFileSize bounds how much of a key file is read; an RSA-4096
	// PKCS#8 PEM file is about 3.3 KB.
	maxKeyFileSize = 64 << 10

	// pemBlockType is the PEM label of a PKCS#8 private key (RFC 7468
	// section 10).
	pemBlockType = "PRIVATE KEY"

	// createdLabel starts the explanatory line that records a key's
	// creation time ahead of the PEM block (RFC 7468 section 5.2 lets
	// parsers skip such text).
	createdLabel = "Created: "
)

// Keystore keeps DKIM private keys as PKCS#8 PEM files in one directory, one
// file per domain and selector, named after the key's record name
// ("s1._domainkey.example.test.pem"). Files are written mode 0600 through a
// temporary file and a rename, so a reader sees the old key or the new one
// and never half of either.
//
// The methods touch only the local file system and take no context.
type Keystore struct {
	dir string
}

// OpenKeystore opens the key directory dir, creating it with mode 0700 if it
// is missing. It refuses a directory that its group or others may write
// (ErrKeyDirMode), since they could plant or swap keys there.
func OpenKeystore(dir string) (*Keystore, error) {
	if err := os.MkdirAll(dir, keyDirMode); err != nil {
		return nil, fmt.Errorf("create key directory: %w", err)
	}

	info, err := os.Stat(dir)
	if err != nil {
		return nil, fmt.Errorf("open key directory: %w", err)
	}
	if !info.IsDir() {
		return nil, fmt.Errorf("open key directory %s: %w", dir, fs.ErrInvalid)
	}
	if info.Mode().Perm()&0o022 != 0 {
		return nil, fmt.Errorf("open key directory %s (mode %04o): %w",
			dir, info.Mode().Perm(), ErrKeyDirMode)
	}

	return &Keystore{dir: dir}, nil
}

// Dir returns the key directory.
func (s *Keystore) Dir() string { return s.dir }

// Save stores k. It returns ErrKeyExists if a key for the same domain and
// selector is already stored, and leaves that key untouched.
func (s *Keystore) Save(k *Key) error {
	return s.write(k, false)
}

// Replace stores k, replacing any key stored for the same domain and
// selector.
func (s *Keystore) Replace(k *Key) error {
	return s.write(k, true)
}

// Load returns the key stored for domain and selector, or ErrKeyNotFound.
func (s *Keystore) Load(domain, selector string) (*Key, error) {
	domain, err := normalizeDomain(domain)
	if err != nil {
		return nil, err
	}

	selector, err = normalizeSelector(selector)
	if err != nil {
		return nil, err
	}

	k, err := s.readKeyFile(selector + keyFileInfix + domain + keyFileSuffix)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, ErrKeyNotFound
	}
	return k, err
}

// Delete removes the key stored for domain and selector, or returns
// ErrKeyNotFound.
func (s *Keystore) Delete(domain, selector string) error {
	domain, err := normalizeDomain(domain)
	if err != nil {
		return err
	}

	selector, err = normalizeSelector(selector)
	if err != nil {
		return err
	}

	err = os.Remove(filepath.Join(s.dir, selector+keyFileInfix+domain+keyFileSuffix))
	if errors.Is(err, fs.ErrNotExist) {
		return ErrKeyNotFound
	}
	if err != nil {
		return fmt.Errorf("delete key: %w", err)
	}
	return syncDir(s.dir)
}

// List returns every stored key, sorted by domain and then selector. One
// unreadable or insecure key file fails the whole listing.
func (s *Keystore) List() ([]*Key, error) {
	entries, err := os.ReadDir(s.dir)
	if err != nil {
		return nil, fmt.Errorf("list keys: %w", err)
	}

	var keys []*Key
	for _, e := range entries {
		if _, _, ok := parseKeyFileName(e.Name()); !ok || e.IsDir() {
			continue
		}
		k, err := s.readKeyFile(e.Name())
		if err != nil {
			return nil, err
		}
		keys = append(keys, k)
	}

	slices.SortFunc(keys, func(a, b *Key) int {
		return cmp.Or(cmp.Compare(a.Domain, b.Domain), cmp.Compare(a.Selector, b.Selector))
	})
	return keys, nil
}

// ForDomain returns every key stored for domain, RSA keys first and then by
// selector. It returns an empty list when the domain has no keys.
func (s *Keystore) ForDomain(domain string) ([]*Key, error) {
	domain, err := normalizeDomain(domain)
	if err != nil {
		return nil, err
	}

	all, err := s.List()
	if err != nil {
		return nil, err
	}

	var keys []*Key
	for _, k := range all {
		if k.Domain == domain {
			keys = append(keys, k)
		}
	}

	slices.SortStableFunc(keys, func(a, b *Key) int {
		return cmp.Compare(algorithmRank(a.Algorithm), algorithmRank(b.Algorithm))
	})
	return keys, nil
}

// algorithmRank orders RSA before Ed25519: RSA is the signature every
// verifier understands, so it goes first.
func algorithmRank(a Algorithm) int {
	if a == RSA {
		return 0
	}
	return 1
}

// write stores k through a temporary file. Without replace it publishes the
// file with a hard link, which fails if the name exists, so two concurrent
// writers cannot both succeed.
func (s *Keystore) write(k *Key, replace bool) error {
	if err := k.validate(); err != nil {
		return fmt.Errorf("save key: %w", err)
	}

	data, err := encodeKeyFile(k)
	if err != nil {
		return err
	}

	tmp, err := os.CreateTemp(s.dir, ".tmp-*")
	if err != nil {
		return fmt.Errorf("save key: %w", err)
	}
	tmpName := tmp.Name()
	defer os.Remove(tmpName)

	if err := writeAndSync(tmp, data); err != nil {
		return fmt.Errorf("save key: %w", err)
	}

	final := filepath.Join(s.dir, k.RecordName()+keyFileSuffix)
	if replace {
		err = os.Rename(tmpName, final)
	} else {
		err = os.Link(tmpName, final)
	}
	if errors.Is(err, fs.ErrExist) {
		return fmt.Errorf("save key %s: %w", k.RecordName(), ErrKeyExists)
	}
	if err != nil {
		return fmt.Errorf("save key: %w", err)
	}
	return syncDir(s.dir)
}

// writeAndSync sets the file's mode, writes data, flushes it to disk and
// closes the file.
func writeAndSync(f *os.File, data []byte) error {
	err := f.Chmod(keyFileMode)
	if err == nil {
		_, err = f.Write(data)
	}
	if err == nil {
		err = f.Sync()
	}
	return errors.Join(err, f.Close())
}

// syncDir flushes a directory so that a rename or link in it survives a
// crash.
func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return fmt.Errorf("sync key directory: %w", err)
	}
	err = d.Sync()
	return errors.Join(err, d.Close())
}

// readKeyFile loads the key file name in the key directory. Errors name the
// file but never quote its content.
func (s *Keystore) readKeyFile(name string) (*Key, error) {
	selector, domain, ok := parseKeyFileName(name)
	if !ok {
		return nil, fmt.Errorf("load key %s: %w", name, ErrKeyFileInvalid)
	}

	path := filepath.Join(s.dir, name)
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("load key: %w", err)
	}
	defer f.Close()

	info, err := f.Stat()
	if err != nil {
		return nil, fmt.Errorf("load key: %w", err)
	}
	if !info.Mode().IsRegular() {
		return nil, fmt.Errorf("load key %s: %w", path, ErrKeyFileInvalid)
	}
	if perm := info.Mode().Perm(); perm&0o077 != 0 {
		return nil, fmt.Errorf("load key %s (mode %04o): %w", path, perm, ErrKeyFileMode)
	}

	data, err := io.ReadAll(io.LimitReader(f, maxKeyFileSize+1))
	if err != nil {
		return nil, fmt.Errorf("load key: %w", err)
	}

	k, err := decodeKeyFile(data)
	if err != nil {
		return nil, fmt.Errorf("load key %s: %w", path, err)
	}
	k.Domain, k.Selector = domain, selector
	if k.CreatedAt.IsZero() {
		k.CreatedAt = info.ModTime().UTC().Truncate(time.Second)
	}
	return k, nil
}

// parseKeyFileName splits a key file name into selector and domain.
func parseKeyFileName(name string) (selector, domain string, ok bool) {
	base, found := strings.CutSuffix(name, keyFileSuffix)
	if !found {
		return "", "", false
	}
	selector, domain, found = strings.Cut(base, keyFileInfix)
	if !found {
		return "", "", false
	}
	if d, err := normalizeDomain(domain); err != nil || d != domain {
		return "", "", false
	}
	if s, err := normalizeSelector(selector); err != nil || s != selector {
		return "", "", false
	}
	return selector, domain, true
}

// encodeKeyFile renders k as explanatory text (record name, algorithm,
// creation time) followed by its PKCS#8 PEM block.
func encodeKeyFile(k *Key) ([]byte, error) {
	der, err := x509.MarshalPKCS8PrivateKey(k.Signer)
	if err != nil {
		return nil, fmt.Errorf("encode key: %w", err)
	}

	var b bytes.Buffer
	fmt.Fprintf(&b, "DKIM key %s\n", k.RecordName())
	fmt.Fprintf(&b, "Algorithm: %s\n", k.Algorithm)
	if !k.CreatedAt.IsZero() {
		fmt.Fprintf(&b, "%s%s\n", createdLabel, k.CreatedAt.UTC().Format(time.RFC3339))
	}
	if err := pem.Encode(&b, &pem.Block{Type: pemBlockType, Bytes: der}); err != nil {
		return nil, fmt.Errorf("encode key: %w", err)
	}
	return b.Bytes(), nil
}

// decodeKeyFile parses a key file: exactly one PKCS#8 PEM block holding an
// RSA key of at least MinRSABits or an Ed25519 key, and optionally a
// creation time in the text before it. Domain and Selector are left empty.
//
// Parser errors are replaced by ErrKeyFileInvalid on purpose: the wrapped
// ASN.1 messages can describe the content of a file that holds a secret.
func decodeKeyFile(data []byte) (*Key, error) {
	if len(data) > maxKeyFileSize {
		return nil, ErrKeyFileInvalid
	}

	block, rest := pem.Decode(data)
	if block == nil || block.Type != pemBlockType || len(block.Headers) != 0 {
		return nil, ErrKeyFileInvalid
	}
	if next, _ := pem.Decode(rest); next != nil {
		return nil, ErrKeyFileInvalid
	}

	priv, err := x509.ParsePKCS8PrivateKey(block.Bytes)
	if err != nil {
		return nil, ErrKeyFileInvalid
	}
	signer, ok := priv.(crypto.Signer)
	if !ok {
		return nil, ErrKeyFileInvalid
	}
	alg, err := algorithmOf(signer.Public())
	if err != nil {
		return nil, err
	}
	return &Key{Algorithm: alg, Signer: signer, CreatedAt: createdAt(data)}, nil
}

// createdAt returns the creation time recorded before the PEM block, or the
// zero time.
func createdAt(data []byte) time.Time {
	sc := bufio.NewScanner(bytes.NewReader(data))
	for sc.Scan() {
		line := sc.Text()
		if strings.HasPrefix(line, "-----BEGIN ") {
			break
		}
		if v, ok := strings.CutPrefix(line, createdLabel); ok {
			t, err := time.Parse(time.RFC3339, strings.TrimSpace(v))
			if err == nil {
				return t.UTC()
			}
		}
	}
	return time.Time{}
}
