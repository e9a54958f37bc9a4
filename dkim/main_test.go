package dkim

import (
	"bytes"
	"crypto/ed25519"
	"fmt"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	msgauth "github.com/emersion/go-msgauth/dkim"
	"go.uber.org/goleak"

	"github.com/sealpost/sealpost/dkim/internal/dkimtest"
)

func TestMain(m *testing.M) {
	code := m.Run()

	if dkimpy.server != nil {
		dkimpy.server.Close()
	}
	if code == 0 {
		if err := goleak.Find(); err != nil {
			fmt.Fprintln(os.Stderr, err)
			code = 1
		}
	}
	os.Exit(code)
}

// dkimpy is the dkimpy verifier shared by all tests, started on first use.
var dkimpy struct {
	once   sync.Once
	server *dkimtest.DkimpyServer
	err    error
}

// dkimpyServer returns the shared dkimpy verifier, or nil if dkimpy is not
// installed. With CI=true a missing dkimpy fails the test.
func dkimpyServer(t testing.TB) *dkimtest.DkimpyServer {
	t.Helper()
	dkimpy.once.Do(func() { dkimpy.server, dkimpy.err = dkimtest.StartDkimpy() })
	if dkimpy.err != nil && os.Getenv("CI") == "true" {
		t.Fatalf("dkimpy with Ed25519 support is required in CI "+
			"(apt-get install python3-dkim python3-nacl): %v", dkimpy.err)
	}
	return dkimpy.server
}

// verifyDkimpy verifies msgs with dkimpy, or returns nil if it is not
// installed.
func verifyDkimpy(t testing.TB, msgs [][]byte, recs map[string]string) [][]bool {
	t.Helper()
	srv := dkimpyServer(t)
	if srv == nil {
		return nil
	}
	results, err := srv.Verify(msgs, recs)
	if err != nil {
		t.Fatal(err)
	}
	return results
}

// fixedTime is the signature time of reproducible signatures.
var fixedTime = time.Date(2026, 3, 14, 15, 9, 26, 0, time.UTC)

// sharedRSAKey is generated once per test binary: RSA-2048 generation takes
// a noticeable fraction of a second under the race detector.
var sharedRSAKey = sync.OnceValue(func() *Key {
	k, err := Generate(RSA, "example.test", "rsa2026")
	if err != nil {
		panic(err)
	}
	return k
})

// fixedEd25519Key returns an Ed25519 key from a fixed seed, so signatures
// made with it at fixedTime are byte-for-byte reproducible.
func fixedEd25519Key() *Key {
	seed := bytes.Repeat([]byte{0x5e, 0xa1}, ed25519.SeedSize/2)
	return &Key{
		Domain:    "example.test",
		Selector:  "ed2026",
		Algorithm: Ed25519,
		Signer:    ed25519.NewKeyFromSeed(seed),
		CreatedAt: fixedTime,
	}
}

// crlfLines joins lines with CRLF and ends the result with CRLF.
func crlfLines(lines ...string) []byte {
	return []byte(strings.Join(lines, "\r\n") + "\r\n")
}

// sampleMessage is a finished transactional message as the MIME writer
// produces it, about 2 KB long.
func sampleMessage() []byte {
	lines := []string{
		"From: Example Pharmacy <noreply@example.test>",
		"To: Pat Doe <pat@example.test>",
		"Subject: Your order has shipped",
		"Date: Sat, 14 Mar 2026 15:09:26 +0000",
		"Message-ID: <20260314150926.4f2a@example.test>",
		"MIME-Version: 1.0",
		"List-Unsubscribe: <https://example.test/u/opaque-token>",
		"List-Unsubscribe-Post: List-Unsubscribe=One-Click",
		"Content-Type: text/plain; charset=utf-8",
		"Content-Transfer-Encoding: quoted-printable",
		"",
	}
	for i := 0; len(strings.Join(lines, "\r\n")) < 2000; i++ {
		lines = append(lines, "Your order is on its way. Track it with the link in your "+
			"account.  Thank you\t for shopping with us. ")
	}
	return crlfLines(lines...)
}

// records maps each key's record name to its TXT record.
func records(keys ...*Key) map[string]string {
	m := make(map[string]string, len(keys))
	for _, k := range keys {
		m[k.RecordName()] = k.TXTRecord()
	}
	return m
}

// verifiers runs every available verifier over a signed message and
// returns, per verifier name, whether each signature passed.
func verifiers(t *testing.T, signed []byte, keys ...*Key) map[string][]bool {
	t.Helper()
	recs := records(keys...)
	out := map[string][]bool{"dkimtest": verifyDkimtest(t, signed, recs)}

	// go-msgauth cannot read a message without a body separator.
	if bytes.Contains(signed, []byte("\r\n\r\n")) {
		out["go-msgauth"] = verifyMsgauth(t, signed, recs)
	}

	if results := verifyDkimpy(t, [][]byte{signed}, recs); results != nil {
		out["dkimpy"] = results[0]
	}
	return out
}

// verifyMsgauth verifies with go-msgauth, answering key lookups from recs.
func verifyMsgauth(t *testing.T, signed []byte, recs map[string]string) []bool {
	t.Helper()
	verifs, err := msgauth.VerifyWithOptions(bytes.NewReader(signed), &msgauth.VerifyOptions{
		LookupTXT: func(name string) ([]string, error) { return []string{recs[name]}, nil },
	})
	if err != nil {
		t.Fatalf("go-msgauth: %v", err)
	}
	var out []bool
	for _, v := range verifs {
		out = append(out, v.Err == nil)
		if v.Err != nil {
			t.Logf("go-msgauth: %v", v.Err)
		}
	}
	return out
}

// verifyDkimtest verifies with the independent verifier.
func verifyDkimtest(t *testing.T, signed []byte, recs map[string]string) []bool {
	t.Helper()
	results, err := dkimtest.Verify(signed, func(name string) (string, error) {
		return recs[name], nil
	})
	if err != nil {
		t.Fatalf("dkimtest: %v", err)
	}
	var out []bool
	for _, r := range results {
		out = append(out, r.Err == nil)
		if r.Err != nil {
			t.Logf("dkimtest: %v", r.Err)
		}
	}
	return out
}

// requireVerified fails unless every verifier passes want signatures.
func requireVerified(t *testing.T, signed []byte, want int, keys ...*Key) {
	t.Helper()
	for name, got := range verifiers(t, signed, keys...) {
		if len(got) != want {
			t.Errorf("%s saw %d signatures, want %d", name, len(got), want)
		}
		for i, ok := range got {
			if !ok {
				t.Errorf("%s: signature %d does not verify", name, i)
			}
		}
	}
}

// requireRejected fails unless every verifier rejects every signature.
func requireRejected(t *testing.T, signed []byte, want int, keys ...*Key) {
	t.Helper()
	for name, got := range verifiers(t, signed, keys...) {
		if len(got) != want {
			t.Errorf("%s saw %d signatures, want %d", name, len(got), want)
		}
		for i, ok := range got {
			if ok {
				t.Errorf("%s: signature %d verifies on a tampered message", name, i)
			}
		}
	}
}

// signMessage signs msg with keys at fixedTime and returns the signed
// message.
func signMessage(t testing.TB, msg []byte, keys ...*Key) []byte {
	t.Helper()
	s, err := NewSigner(keys...)
	if err != nil {
		t.Fatal(err)
	}
	sig, err := s.SignAt(msg, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	return append(sig, msg...)
}

// checkHeaderBlock fails if the header block of a signed message has a line
// over 998 octets, an empty line before the body separator, or a
// continuation line in the wrong place (RFC 5322 section 2.1.1).
func checkHeaderBlock(t *testing.T, signed []byte) {
	t.Helper()
	head, _, found := bytes.Cut(signed, []byte("\r\n\r\n"))
	if !found {
		t.Fatal("no header/body separator")
	}
	for i, line := range strings.Split(string(head), "\r\n") {
		if len(line) > 998 {
			t.Errorf("header line %d is %d octets", i, len(line))
		}
		if strings.TrimSpace(line) == "" {
			t.Errorf("header line %d is empty or blank", i)
		}
		if i == 0 && (line[0] == ' ' || line[0] == '\t') {
			t.Error("header block starts with a continuation line")
		}
		if line[0] != ' ' && line[0] != '\t' && !strings.Contains(line, ":") {
			t.Errorf("header line %d is neither a field nor a continuation: %q", i, line)
		}
	}
}
