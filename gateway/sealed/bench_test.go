package sealed_test

import (
	"bytes"
	"context"
	"path/filepath"
	"testing"

	"github.com/sealpost/sealpost/gateway/sealed"
)

func benchKeyring(b *testing.B) *sealed.LocalKeyring {
	b.Helper()
	path := filepath.Join(b.TempDir(), "master.keys")
	if err := sealed.GenerateKeyringFile(path); err != nil {
		b.Fatal(err)
	}
	ring, err := sealed.LoadKeyring(path)
	if err != nil {
		b.Fatal(err)
	}
	return ring
}

// payload2KB is the size of a typical order's sensitive items.
var payload2KB = bytes.Repeat([]byte("Insulin glargine 100 U/mL x1\n"), 71)[:2048]

func BenchmarkSeal2KB(b *testing.B) {
	ring := benchKeyring(b)
	ctx := context.Background()
	b.SetBytes(int64(len(payload2KB)))
	for b.Loop() {
		if _, err := sealed.Seal(ctx, ring, "msg-1", payload2KB); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkOpen2KB(b *testing.B) {
	ring := benchKeyring(b)
	ctx := context.Background()
	s, err := sealed.Seal(ctx, ring, "msg-1", payload2KB)
	if err != nil {
		b.Fatal(err)
	}
	b.SetBytes(int64(len(payload2KB)))
	for b.Loop() {
		if _, err := sealed.Open(ctx, ring, "msg-1", s); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkHashKnowledge(b *testing.B) {
	for b.Loop() {
		if _, err := sealed.HashKnowledge("1980-07-04"); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkNewCode(b *testing.B) {
	tok, _ := sealed.NewToken()
	secret := bytes.Repeat([]byte("s"), sealed.CodeSecretSize)
	for b.Loop() {
		sealed.NewCode(secret, tok)
	}
}
