package localca_test

import (
	"bytes"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"net"
	"os"
	"path/filepath"
	"testing"
	"time"

	"go.uber.org/goleak"

	"github.com/sealpost/sealpost/gateway/localca"
)

func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m)
}

func newCA(t *testing.T) *localca.CA {
	t.Helper()
	ca, err := localca.New("test CA")
	if err != nil {
		t.Fatalf("new ca: %v", err)
	}
	return ca
}

// handshake runs a real TLS handshake over loopback TCP between a server
// presenting cert and a client trusting roots, verifying serverName.
func handshake(t *testing.T, cert tls.Certificate, roots *x509.CertPool, serverName string) error {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatalf("listen: %v", err)
	}
	defer l.Close()

	done := make(chan struct{})
	go func() {
		defer close(done)
		c, err := l.Accept()
		if err != nil {
			return
		}
		defer c.Close()
		srv := tls.Server(c, &tls.Config{Certificates: []tls.Certificate{cert}})
		_ = srv.Handshake()
	}()
	defer func() { <-done }()

	c, err := net.Dial("tcp", l.Addr().String())
	if err != nil {
		t.Fatalf("dial: %v", err)
	}
	defer c.Close()
	client := tls.Client(c, &tls.Config{RootCAs: roots, ServerName: serverName})
	return client.Handshake()
}

func TestIssue(t *testing.T) {
	t.Parallel()
	ca := newCA(t)
	cert, err := ca.Issue("localhost", "127.0.0.1", "::1")
	if err != nil {
		t.Fatalf("issue: %v", err)
	}

	tests := []struct {
		name       string
		roots      *x509.CertPool
		serverName string
		wantErr    bool
	}{
		{name: "dns name", roots: ca.Pool(), serverName: "localhost"},
		{name: "ipv4 address", roots: ca.Pool(), serverName: "127.0.0.1"},
		{name: "name not in certificate", roots: ca.Pool(), serverName: "relay.example.test",
			wantErr: true},
		{name: "other ca", roots: newCA(t).Pool(), serverName: "localhost", wantErr: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			err := handshake(t, cert, tt.roots, tt.serverName)
			if (err != nil) != tt.wantErr {
				t.Fatalf("handshake error = %v, want error %v", err, tt.wantErr)
			}
		})
	}
}

func TestIssueWith(t *testing.T) {
	t.Parallel()
	ca := newCA(t)
	past := time.Now().Add(-48 * time.Hour)

	t.Run("expired certificate fails verification", func(t *testing.T) {
		t.Parallel()
		cert, err := ca.IssueWith(localca.IssueOptions{
			Hosts:     []string{"localhost"},
			NotBefore: past,
			NotAfter:  past.Add(time.Hour),
		})
		if err != nil {
			t.Fatalf("issue: %v", err)
		}
		err = handshake(t, cert, ca.Pool(), "localhost")
		var invalid x509.CertificateInvalidError
		if !errors.As(err, &invalid) || invalid.Reason != x509.Expired {
			t.Fatalf("handshake error = %v, want expired certificate", err)
		}
	})

	t.Run("validity is honoured", func(t *testing.T) {
		t.Parallel()
		cert, err := ca.IssueWith(localca.IssueOptions{
			Hosts:     []string{"localhost"},
			NotBefore: past,
			NotAfter:  past.Add(time.Hour),
		})
		if err != nil {
			t.Fatalf("issue: %v", err)
		}
		if !cert.Leaf.NotBefore.Equal(past.Truncate(time.Second)) {
			t.Fatalf("not before = %v, want %v", cert.Leaf.NotBefore, past)
		}
	})

	t.Run("rejects bad options", func(t *testing.T) {
		t.Parallel()
		if _, err := ca.IssueWith(localca.IssueOptions{}); !errors.Is(err, localca.ErrNoHosts) {
			t.Fatalf("no hosts: err = %v", err)
		}
		_, err := ca.IssueWith(localca.IssueOptions{
			Hosts: []string{"localhost"}, NotBefore: past, NotAfter: past,
		})
		if !errors.Is(err, localca.ErrInvalidValidity) {
			t.Fatalf("empty validity: err = %v", err)
		}
	})
}

func TestLoadOrCreate(t *testing.T) {
	t.Parallel()

	t.Run("creates then reuses", func(t *testing.T) {
		t.Parallel()
		dir := filepath.Join(t.TempDir(), "ca")
		first, err := localca.LoadOrCreate(dir)
		if err != nil {
			t.Fatalf("create: %v", err)
		}
		info, err := os.Stat(filepath.Join(dir, localca.KeyFile))
		if err != nil {
			t.Fatalf("stat key: %v", err)
		}
		if mode := info.Mode().Perm(); mode != 0o600 {
			t.Fatalf("key mode = %o, want 600", mode)
		}

		second, err := localca.LoadOrCreate(dir)
		if err != nil {
			t.Fatalf("load: %v", err)
		}
		if !bytes.Equal(first.CertPEM, second.CertPEM) {
			t.Fatal("second load created a new ca")
		}
		cert, err := second.Issue("localhost")
		if err != nil {
			t.Fatalf("issue from loaded ca: %v", err)
		}
		if err := handshake(t, cert, first.Pool(), "localhost"); err != nil {
			t.Fatalf("loaded ca issues untrusted certificates: %v", err)
		}
	})

	t.Run("refuses a lone certificate", func(t *testing.T) {
		t.Parallel()
		dir := t.TempDir()
		ca := newCA(t)
		certPath := filepath.Join(dir, localca.CertFile)
		if err := os.WriteFile(certPath, ca.CertPEM, 0o644); err != nil {
			t.Fatal(err)
		}
		if _, err := localca.LoadOrCreate(dir); !errors.Is(err, localca.ErrPartialFiles) {
			t.Fatalf("err = %v, want ErrPartialFiles", err)
		}
	})

	t.Run("refuses a mismatched key", func(t *testing.T) {
		t.Parallel()
		dirA := filepath.Join(t.TempDir(), "a")
		dirB := filepath.Join(t.TempDir(), "b")
		if _, err := localca.LoadOrCreate(dirA); err != nil {
			t.Fatal(err)
		}
		if _, err := localca.LoadOrCreate(dirB); err != nil {
			t.Fatal(err)
		}
		keyB, err := os.ReadFile(filepath.Join(dirB, localca.KeyFile))
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dirA, localca.KeyFile), keyB, 0o600); err != nil {
			t.Fatal(err)
		}
		if _, err := localca.LoadOrCreate(dirA); !errors.Is(err, localca.ErrInvalidCA) {
			t.Fatalf("err = %v, want ErrInvalidCA", err)
		}
	})
}
