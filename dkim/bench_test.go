package dkim

import "testing"

func benchmarkSign(b *testing.B, key *Key) {
	s, err := NewSigner(key)
	if err != nil {
		b.Fatal(err)
	}
	msg := sampleMessage()
	b.SetBytes(int64(len(msg)))
	b.ReportAllocs()
	for b.Loop() {
		if _, err := s.Sign(msg); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkSignRSA2048(b *testing.B) { benchmarkSign(b, sharedRSAKey()) }

func BenchmarkSignEd25519(b *testing.B) { benchmarkSign(b, fixedEd25519Key()) }

func BenchmarkSignDual(b *testing.B) {
	s, err := NewSigner(sharedRSAKey(), fixedEd25519Key())
	if err != nil {
		b.Fatal(err)
	}
	msg := sampleMessage()
	b.SetBytes(int64(len(msg)))
	b.ReportAllocs()
	for b.Loop() {
		if _, err := s.Sign(msg); err != nil {
			b.Fatal(err)
		}
	}
}
