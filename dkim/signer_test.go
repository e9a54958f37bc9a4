package dkim

import (
	"bytes"
	"errors"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/sealpost/sealpost/dkim/internal/dkimtest"
)

func TestRoundTrip(t *testing.T) {
	t.Parallel()

	store, err := OpenKeystore(filepath.Join(t.TempDir(), "keys"))
	if err != nil {
		t.Fatal(err)
	}
	ed, err := Generate(Ed25519, "Example.TEST", "ED2026")
	if err != nil {
		t.Fatal(err)
	}
	for _, k := range []*Key{ed, sharedRSAKey()} {
		if err := store.Save(k); err != nil {
			t.Fatalf("save %v: %v", k, err)
		}
	}

	listed, err := store.List()
	if err != nil {
		t.Fatal(err)
	}
	if len(listed) != 2 {
		t.Fatalf("listed %d keys, want 2", len(listed))
	}
	keys, err := store.ForDomain("example.test")
	if err != nil {
		t.Fatal(err)
	}
	if len(keys) != 2 || keys[0].Algorithm != RSA || keys[1].Algorithm != Ed25519 {
		t.Fatalf("ForDomain = %v, want the rsa key then the ed25519 key", keys)
	}

	for _, tc := range []struct {
		name string
		keys []*Key
	}{
		{"rsa", keys[:1]},
		{"ed25519", keys[1:]},
		{"dual", keys},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			signed := signMessage(t, sampleMessage(), tc.keys...)
			checkHeaderBlock(t, signed)
			requireVerified(t, signed, len(tc.keys), tc.keys...)
		})
	}
}

func TestSignProfile(t *testing.T) {
	t.Parallel()

	keys := []*Key{sharedRSAKey(), fixedEd25519Key()}
	s, err := NewSigner(keys...)
	if err != nil {
		t.Fatal(err)
	}
	sigs, err := s.SignAt(sampleMessage(), fixedTime)
	if err != nil {
		t.Fatal(err)
	}

	recs := records(keys...)
	lookup := func(name string) (string, error) { return recs[name], nil }
	results, err := dkimtest.Verify(append(sigs, sampleMessage()...), lookup)
	if err != nil {
		t.Fatal(err)
	}
	if len(results) != 2 {
		t.Fatalf("got %d signatures, want 2", len(results))
	}
	wantHeaders := []string{
		"From", "From", "To", "To", "Subject", "Subject", "Date", "Date",
		"Message-ID", "Message-ID", "MIME-Version", "MIME-Version",
		"Content-Type", "Content-Type",
		"List-Unsubscribe", "List-Unsubscribe",
		"List-Unsubscribe-Post", "List-Unsubscribe-Post",
	}
	for i, r := range results {
		if r.Err != nil {
			t.Errorf("signature %d: %v", i, r.Err)
		}
		if want := string(keys[i].Algorithm) + "-sha256"; r.Algorithm != want {
			t.Errorf("signature %d: a=%s, want %s", i, r.Algorithm, want)
		}
		if r.Timestamp != "1773500966" {
			t.Errorf("signature %d: t=%s, want the signing time", i, r.Timestamp)
		}
		if !slices.Equal(r.Headers, wantHeaders) {
			t.Errorf("signature %d: h=%v\nwant %v", i, r.Headers, wantHeaders)
		}
		field := strings.Join(r.FieldLines, "\r\n")
		if !strings.Contains(field, " c=relaxed/relaxed;") {
			t.Errorf("signature %d lacks c=relaxed/relaxed: %s", i, field)
		}
		if strings.Contains(field, " l=") || strings.Contains(field, " x=") {
			t.Errorf("signature %d has l= or x=: %s", i, field)
		}
		for _, line := range r.FieldLines {
			if len(line) > foldWidth {
				t.Errorf("signature %d line of %d octets: %q", i, len(line), line)
			}
		}
	}
}

func TestSignOversigning(t *testing.T) {
	t.Parallel()

	tests := []struct {
		name  string
		extra []string
		want  map[string]int
	}{
		{
			name: "absent optional fields are not listed",
			want: map[string]int{"From": 2, "To": 2, "Cc": 0, "References": 0},
		},
		{
			name:  "absent required fields are listed once",
			extra: nil,
			want:  map[string]int{"Content-Type": 2, "MIME-Version": 2},
		},
		{
			name: "repeated fields are counted case-insensitively",
			extra: []string{
				"TO: b@example.test", "to: c@example.test", "cc: d@example.test",
				"References: <a@example.test>", "REFERENCES: <b@example.test>",
				"Reply-To: r@example.test", "In-Reply-To: <p@example.test>",
			},
			want: map[string]int{
				"To": 4, "Cc": 2, "References": 3, "Reply-To": 2, "In-Reply-To": 2,
				"List-Unsubscribe": 2,
			},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			key := fixedEd25519Key()
			head := append(strings.Split(strings.TrimSuffix(
				string(sampleMessage()[:bytes.Index(sampleMessage(), []byte("\r\n\r\n"))]),
				"\r\n"), "\r\n"), tc.extra...)
			msg := crlfLines(append(head, "", "body")...)
			signed := signMessage(t, msg, key)
			requireVerified(t, signed, 1, key)

			results, err := dkimtest.Verify(signed, func(string) (string, error) {
				return key.TXTRecord(), nil
			})
			if err != nil {
				t.Fatal(err)
			}
			for name, want := range tc.want {
				got := 0
				for _, h := range results[0].Headers {
					if h == name {
						got++
					}
				}
				if got != want {
					t.Errorf("h= lists %s %d times, want %d", name, got, want)
				}
			}
		})
	}
}

// TestSignOversigningBreaksOnAddedField proves the point of oversigning: a
// second copy of a signed field added after signing, at the top or at the
// bottom of the header, fails every verifier.
func TestSignOversigningBreaksOnAddedField(t *testing.T) {
	t.Parallel()

	keys := []*Key{sharedRSAKey(), fixedEd25519Key()}
	signed := signMessage(t, sampleMessage(), keys...)
	requireVerified(t, signed, 2, keys...)

	tests := []struct {
		name  string
		field string
	}{
		{"From", "From: Billing <billing@attacker.test>"},
		{"Subject", "Subject: Pay now"},
		{"To", "To: victim@example.test"},
	}
	for _, tc := range tests {
		for _, where := range []string{"top", "bottom"} {
			t.Run(tc.name+"/"+where, func(t *testing.T) {
				t.Parallel()
				var tampered []byte
				if where == "top" {
					tampered = append([]byte(tc.field+"\r\n"), signed...)
				} else {
					i := bytes.Index(signed, []byte("\r\n\r\n")) + 2
					tampered = slices.Concat(signed[:i], []byte(tc.field+"\r\n"), signed[i:])
				}
				requireRejected(t, tampered, 2, keys...)
			})
		}
	}
}

func TestSignRejects(t *testing.T) {
	t.Parallel()

	tests := []struct {
		name string
		msg  string
		want error
	}{
		{
			"bare LF in body",
			"From: a@example.test\r\n\r\nok\n.\r\nMAIL FROM:<x>\r\n",
			ErrBareLineBreak,
		},
		{"bare CR in body", "From: a@example.test\r\n\r\nok\r.\r\n", ErrBareLineBreak},
		{"bare LF in header", "From: a@example.test\nBcc: x\r\n\r\nbody\r\n", ErrBareLineBreak},
		{"CR at end", "From: a@example.test\r\n\r\nbody\r", ErrBareLineBreak},
		{"no From", "To: a@example.test\r\n\r\nbody\r\n", ErrNoFrom},
		{"empty header", "\r\nbody\r\n", ErrNoFrom},
		{"no final CRLF", "From: a@example.test", ErrMalformedMessage},
		{"leading continuation", " folded\r\nFrom: a@example.test\r\n\r\n", ErrMalformedMessage},
		{"line without colon", "From: a@example.test\r\nnot a field\r\n\r\n", ErrMalformedMessage},
		{"empty field name", ": value\r\nFrom: a@example.test\r\n\r\n", ErrMalformedMessage},
	}
	s, err := NewSigner(fixedEd25519Key())
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			_, err := s.Sign([]byte(tc.msg))
			if !errors.Is(err, tc.want) {
				t.Fatalf("Sign = %v, want %v", err, tc.want)
			}
			if strings.Contains(err.Error(), "example.test") {
				t.Errorf("error echoes message content: %v", err)
			}
		})
	}
}

func TestSignEdgeMessages(t *testing.T) {
	t.Parallel()

	tests := []struct {
		name string
		msg  []byte
	}{
		{"no body", crlfLines("From: a@example.test", "Subject: x")},
		{"empty body", crlfLines("From: a@example.test", "")},
		{"only empty lines", crlfLines("From: a@example.test", "", "", " \t", "")},
		{"body without final CRLF", []byte("From: a@example.test\r\n\r\nlast line")},
		{"folded fields", crlfLines(
			"From: \"Example\r\n Pharmacy\" <a@example.test>",
			"Subject:   spaced \t out\r\n\tsubject   ", "To:b@example.test", "", "x")},
		{"non-ASCII and leading space", crlfLines(
			"From: a@example.test", "Subject: =?UTF-8?Q?Gr=C3=BC=C3=9Fe?=", "",
			"  indented\u00a0line with\u00a0nbsp  ", "\t", "done")},
	}
	key := fixedEd25519Key()
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			signed := signMessage(t, tc.msg, key)
			requireVerified(t, signed, 1, key)
		})
	}
}

func TestNewSignerRejects(t *testing.T) {
	t.Parallel()

	ed := fixedEd25519Key()
	wrongAlg := *ed
	wrongAlg.Algorithm = RSA
	upper := *ed
	upper.Domain = "Example.TEST"
	tests := []struct {
		name string
		keys []*Key
		want error
	}{
		{"no keys", nil, ErrNoKeys},
		{"nil key", []*Key{nil}, ErrNoKeys},
		{"algorithm mismatch", []*Key{&wrongAlg}, ErrKeyMismatch},
		{"domain not normalized", []*Key{&upper}, ErrInvalidDomain},
		{"duplicate", []*Key{ed, fixedEd25519Key()}, ErrDuplicateKey},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			if _, err := NewSigner(tc.keys...); !errors.Is(err, tc.want) {
				t.Fatalf("NewSigner = %v, want %v", err, tc.want)
			}
		})
	}
}

func TestSignUsesCurrentTime(t *testing.T) {
	t.Parallel()

	s, err := NewSigner(fixedEd25519Key())
	if err != nil {
		t.Fatal(err)
	}
	before := time.Now().Unix()
	sig, err := s.Sign(sampleMessage())
	if err != nil {
		t.Fatal(err)
	}
	results, err := dkimtest.Verify(append(sig, sampleMessage()...), func(string) (string, error) {
		return fixedEd25519Key().TXTRecord(), nil
	})
	if err != nil || len(results) != 1 || results[0].Err != nil {
		t.Fatalf("verify: %v %v", err, results)
	}
	ts, err := strconv.ParseInt(results[0].Timestamp, 10, 64)
	if err != nil || ts < before || ts > time.Now().Unix() {
		t.Fatalf("t=%s, want the current time", results[0].Timestamp)
	}
}
