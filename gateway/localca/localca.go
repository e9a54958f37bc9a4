package localca

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"math/big"
	"net"
	"os"
	"path/filepath"
	"time"
)

const (
	// CertFile is the name of the CA certificate inside a LoadOrCreate dir.
	CertFile = "ca.pem"

	// KeyFile is the name of the CA private key inside a LoadOrCreate dir.
	// It is written with mode 0600.
	KeyFile = "ca-key.pem"

	// DefaultCommonName names the CA created by LoadOrCreate.
	DefaultCommonName = "Sealpost local CA"

	// CALifetime is how long a new CA certificate is valid.
	CALifetime = 10 * 365 * 24 * time.Hour

	// LeafLifetime is how long a certificate from Issue is valid.
	LeafLifetime = 365 * 24 * time.Hour

	// ClockSkew backdates NotBefore so that peers with a slightly slow clock
	// accept a freshly issued certificate.
	ClockSkew = time.Hour

	keyFileMode  fs.FileMode = 0o600
	certFileMode fs.FileMode = 0o644
	dirMode      fs.FileMode = 0o700
)

// CA is a local certificate authority: a self-signed root and its key.
//
// A CA logs as its subject only; the key never appears in logs.
type CA struct {
	// Cert is the parsed root certificate.
	Cert *x509.Certificate
	// Key signs issued certificates.
	Key crypto.Signer
	// CertPEM is Cert in PEM form, ready to hand to peers that must trust it.
	CertPEM []byte
}

// IssueOptions describes one certificate for IssueWith.
type IssueOptions struct {
	// Hosts are DNS names and IP addresses placed in the subject alternative
	// names. At least one is required.
	Hosts []string
	// CommonName defaults to the first host.
	CommonName string
	// NotBefore defaults to now minus ClockSkew.
	NotBefore time.Time
	// NotAfter defaults to NotBefore plus LeafLifetime.
	NotAfter time.Time
}

// New creates a fresh CA in memory with the given common name.
func New(commonName string) (*CA, error) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, fmt.Errorf("generate ca key: %w", err)
	}

	serial, err := newSerial()
	if err != nil {
		return nil, err
	}
	now := time.Now()
	tmpl := &x509.Certificate{
		SerialNumber:          serial,
		Subject:               pkix.Name{CommonName: commonName},
		NotBefore:             now.Add(-ClockSkew),
		NotAfter:              now.Add(CALifetime),
		KeyUsage:              x509.KeyUsageCertSign | x509.KeyUsageCRLSign,
		BasicConstraintsValid: true,
		IsCA:                  true,
		MaxPathLenZero:        true,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, key.Public(), key)
	if err != nil {
		return nil, fmt.Errorf("create ca certificate: %w", err)
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		return nil, fmt.Errorf("parse ca certificate: %w", err)
	}

	return &CA{Cert: cert, Key: key, CertPEM: encodeCert(der)}, nil
}

// LoadOrCreate returns the CA stored in dir (CertFile and KeyFile), creating
// dir and a new CA there when neither file exists. The key file is written
// with mode 0600. A CA whose certificate has expired is reported as
// ErrExpired rather than silently replaced.
func LoadOrCreate(dir string) (*CA, error) {
	certPath := filepath.Join(dir, CertFile)
	keyPath := filepath.Join(dir, KeyFile)

	certPEM, certErr := os.ReadFile(certPath)
	keyPEM, keyErr := os.ReadFile(keyPath)
	switch {
	case certErr == nil && keyErr == nil:
		return parse(certPEM, keyPEM)
	case errors.Is(certErr, fs.ErrNotExist) && errors.Is(keyErr, fs.ErrNotExist):
	case certErr == nil || keyErr == nil:
		return nil, ErrPartialFiles
	case !errors.Is(certErr, fs.ErrNotExist):
		return nil, fmt.Errorf("read ca certificate: %w", certErr)
	default:
		return nil, fmt.Errorf("read ca key: %w", keyErr)
	}

	ca, err := New(DefaultCommonName)
	if err != nil {
		return nil, err
	}
	if err := ca.save(dir); err != nil {
		return nil, err
	}

	return ca, nil
}

// Pool returns a certificate pool that trusts only this CA.
func (ca *CA) Pool() *x509.CertPool {
	pool := x509.NewCertPool()
	pool.AddCert(ca.Cert)
	return pool
}

// Issue returns a certificate for the given DNS names and IP addresses,
// valid from now minus ClockSkew for LeafLifetime, usable by TLS servers and
// clients.
func (ca *CA) Issue(hosts ...string) (tls.Certificate, error) {
	return ca.IssueWith(IssueOptions{Hosts: hosts})
}

// IssueWith returns a certificate described by opts. Tests use it for
// certificates that are expired or not yet valid.
func (ca *CA) IssueWith(opts IssueOptions) (tls.Certificate, error) {
	if len(opts.Hosts) == 0 {
		return tls.Certificate{}, ErrNoHosts
	}
	notBefore := opts.NotBefore
	if notBefore.IsZero() {
		notBefore = time.Now().Add(-ClockSkew)
	}
	notAfter := opts.NotAfter
	if notAfter.IsZero() {
		notAfter = notBefore.Add(LeafLifetime)
	}
	if !notAfter.After(notBefore) {
		return tls.Certificate{}, ErrInvalidValidity
	}
	commonName := opts.CommonName
	if commonName == "" {
		commonName = opts.Hosts[0]
	}

	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return tls.Certificate{}, fmt.Errorf("generate leaf key: %w", err)
	}
	serial, err := newSerial()
	if err != nil {
		return tls.Certificate{}, err
	}
	tmpl := &x509.Certificate{
		SerialNumber: serial,
		Subject:      pkix.Name{CommonName: commonName},
		NotBefore:    notBefore,
		NotAfter:     notAfter,
		KeyUsage:     x509.KeyUsageDigitalSignature,
		ExtKeyUsage: []x509.ExtKeyUsage{
			x509.ExtKeyUsageServerAuth,
			x509.ExtKeyUsageClientAuth,
		},
		BasicConstraintsValid: true,
	}
	for _, h := range opts.Hosts {
		if ip := net.ParseIP(h); ip != nil {
			tmpl.IPAddresses = append(tmpl.IPAddresses, ip)
		} else {
			tmpl.DNSNames = append(tmpl.DNSNames, h)
		}
	}

	der, err := x509.CreateCertificate(rand.Reader, tmpl, ca.Cert, key.Public(), ca.Key)
	if err != nil {
		return tls.Certificate{}, fmt.Errorf("create leaf certificate: %w", err)
	}
	leaf, err := x509.ParseCertificate(der)
	if err != nil {
		return tls.Certificate{}, fmt.Errorf("parse leaf certificate: %w", err)
	}

	return tls.Certificate{
		Certificate: [][]byte{der},
		PrivateKey:  key,
		Leaf:        leaf,
	}, nil
}

// LogValue reports the CA by subject and expiry only.
func (ca *CA) LogValue() slog.Value {
	return slog.GroupValue(
		slog.String("subject", ca.Cert.Subject.CommonName),
		slog.Time("not_after", ca.Cert.NotAfter),
	)
}

func (ca *CA) save(dir string) error {
	if err := os.MkdirAll(dir, dirMode); err != nil {
		return fmt.Errorf("create ca dir: %w", err)
	}

	keyDER, err := x509.MarshalPKCS8PrivateKey(ca.Key)
	if err != nil {
		return fmt.Errorf("encode ca key: %w", err)
	}
	keyPEM := pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: keyDER})
	if err := writeFile(filepath.Join(dir, KeyFile), keyPEM, keyFileMode); err != nil {
		return fmt.Errorf("write ca key: %w", err)
	}

	if err := writeFile(filepath.Join(dir, CertFile), ca.CertPEM, certFileMode); err != nil {
		return fmt.Errorf("write ca certificate: %w", err)
	}

	return nil
}

// writeFile creates path exclusively so that an existing file is never
// replaced, with mode applied regardless of the process umask.
func writeFile(path string, data []byte, mode fs.FileMode) error {
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, mode)
	if err != nil {
		return err
	}
	if err := f.Chmod(mode); err != nil {
		f.Close()
		return err
	}
	if _, err := f.Write(data); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}

func parse(certPEM, keyPEM []byte) (*CA, error) {
	certBlock, _ := pem.Decode(certPEM)
	if certBlock == nil || certBlock.Type != "CERTIFICATE" {
		return nil, fmt.Errorf("decode ca certificate: %w", ErrInvalidCA)
	}
	cert, err := x509.ParseCertificate(certBlock.Bytes)
	if err != nil {
		return nil, fmt.Errorf("parse ca certificate: %w", errors.Join(ErrInvalidCA, err))
	}
	if !cert.IsCA {
		return nil, fmt.Errorf("ca certificate lacks ca flag: %w", ErrInvalidCA)
	}

	keyBlock, _ := pem.Decode(keyPEM)
	if keyBlock == nil || keyBlock.Type != "PRIVATE KEY" {
		return nil, fmt.Errorf("decode ca key: %w", ErrInvalidCA)
	}
	parsed, err := x509.ParsePKCS8PrivateKey(keyBlock.Bytes)
	if err != nil {
		return nil, fmt.Errorf("parse ca key: %w", errors.Join(ErrInvalidCA, err))
	}
	key, ok := parsed.(*ecdsa.PrivateKey)
	if !ok || !key.PublicKey.Equal(cert.PublicKey) {
		return nil, fmt.Errorf("ca key does not match certificate: %w", ErrInvalidCA)
	}

	if now := time.Now(); now.After(cert.NotAfter) || now.Before(cert.NotBefore) {
		return nil, ErrExpired
	}

	return &CA{Cert: cert, Key: key, CertPEM: encodeCert(cert.Raw)}, nil
}

func encodeCert(der []byte) []byte {
	return pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})
}

// newSerial returns a random 128-bit serial number.
func newSerial() (*big.Int, error) {
	limit := new(big.Int).Lsh(big.NewInt(1), 128)
	serial, err := rand.Int(rand.Reader, limit)
	if err != nil {
		return nil, fmt.Errorf("generate serial: %w", err)
	}
	return serial, nil
}
