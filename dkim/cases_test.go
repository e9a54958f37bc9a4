package dkim

import (
	"bytes"
	"encoding/base64"
	"fmt"
	"math/rand/v2"
	"strings"
	"testing"

	msgauth "github.com/emersion/go-msgauth/dkim"

	"github.com/sealpost/sealpost/dkim/internal/dkimtest"
)

// bl01Message is the message of case BL-01: multipart, an attachment part of
// 40 base64 lines of 76 characters, three text lines with trailing spaces
// and tabs, and two empty lines at the end.
func bl01Message() []byte {
	rng := rand.New(rand.NewPCG(1, 1))
	raw := make([]byte, 40*57)
	for i := range raw {
		raw[i] = byte(rng.UintN(256))
	}
	b64 := base64.StdEncoding.EncodeToString(raw)

	lines := []string{
		"From: Example Pharmacy <noreply@example.test>",
		"To: pat@example.test",
		"Subject: Your receipt",
		"Date: Sat, 14 Mar 2026 15:09:26 +0000",
		"Message-ID: <bl01@example.test>",
		"MIME-Version: 1.0",
		`Content-Type: multipart/mixed; boundary="b1"`,
		"",
		"--b1",
		"Content-Type: text/plain; charset=utf-8",
		"",
		"Thank you for your order.   ",
		"Your receipt is attached.\t\t",
		"Questions?  \t Reply to this message. \t ",
		"--b1",
		`Content-Type: application/pdf; name="receipt.pdf"`,
		"Content-Transfer-Encoding: base64",
		"",
	}
	for i := 0; i < len(b64); i += 76 {
		lines = append(lines, b64[i:i+76])
	}
	lines = append(lines, "--b1--", "", "")
	return crlfLines(lines...)
}

// chunkings returns the ways BL-01 feeds a message to a streaming signer:
// whole, byte by byte, and random chunks of 1 to 4096 bytes with at least
// one chunk ending in CR and the next starting with LF.
func chunkings(t *testing.T, msg []byte) map[string][][]byte {
	t.Helper()
	out := map[string][][]byte{"one write": {msg}}

	var bytewise [][]byte
	for i := range msg {
		bytewise = append(bytewise, msg[i:i+1])
	}
	out["1-byte writes"] = bytewise

	crlfs := []int{}
	for i := 0; i+1 < len(msg); i++ {
		if msg[i] == '\r' && msg[i+1] == '\n' {
			crlfs = append(crlfs, i+1)
		}
	}
	for seed := range uint64(8) {
		rng := rand.New(rand.NewPCG(seed, 0xb101))
		cuts := map[int]bool{crlfs[rng.IntN(len(crlfs))]: true}
		cuts[crlfs[len(crlfs)-2]] = true // inside the trailing empty lines
		for pos := rng.IntN(64) + 1; pos < len(msg); pos += 1 + rng.IntN(4096) {
			cuts[pos] = true
		}
		var chunks [][]byte
		start := 0
		for i := 1; i < len(msg); i++ {
			if cuts[i] {
				chunks = append(chunks, msg[start:i])
				start = i
			}
		}
		chunks = append(chunks, msg[start:])

		split := false
		for i := 0; i+1 < len(chunks); i++ {
			c := chunks[i]
			split = split || (c[len(c)-1] == '\r' && chunks[i+1][0] == '\n')
			if len(c) > 4096 {
				t.Fatalf("chunk of %d bytes", len(c))
			}
		}
		if !split {
			t.Fatal("no chunk boundary splits a CRLF")
		}
		out[fmt.Sprintf("random chunks seed %d", seed)] = chunks
	}
	return out
}

// TestCaseBL01RelaxedBodyChunking pins case BL-01: relaxed body hashing
// must not depend on how the message is split into writes, in particular
// when a CRLF is split between two writes.
func TestCaseBL01RelaxedBodyChunking(t *testing.T) {
	t.Parallel()

	msg := bl01Message()
	key := fixedEd25519Key()
	_, body, _ := bytes.Cut(msg, []byte("\r\n\r\n"))
	wantBH, err := dkimtest.BodyHash(string(body), "relaxed")
	if err != nil {
		t.Fatal(err)
	}
	want := base64.StdEncoding.EncodeToString(wantBH)

	ours := signMessage(t, msg, key)
	if got := bodyHashTag(t, ours); got != want {
		t.Errorf("Signer bh=%s, independent %s", got, want)
	}
	requireVerified(t, ours, 1, key)

	for name, chunks := range chunkings(t, msg) {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			signer, err := msgauth.NewSigner(&msgauth.SignOptions{
				Domain:                 key.Domain,
				Selector:               key.Selector,
				Signer:                 key.Signer,
				HeaderCanonicalization: msgauth.CanonicalizationRelaxed,
				BodyCanonicalization:   msgauth.CanonicalizationRelaxed,
			})
			if err != nil {
				t.Fatal(err)
			}
			for _, c := range chunks {
				if _, err := signer.Write(c); err != nil {
					signer.Close()
					t.Fatal(err)
				}
			}
			if err := signer.Close(); err != nil {
				t.Fatal(err)
			}

			signed := append([]byte(signer.Signature()), msg...)
			if got := bodyHashTag(t, signed); got != want {
				t.Errorf("go-msgauth bh=%s, independent %s", got, want)
			}
			requireVerified(t, signed, 1, key)
		})
	}
}

// bodyHashTag returns the bh= value of the first signature in a message.
func bodyHashTag(t *testing.T, signed []byte) string {
	t.Helper()
	end := bytes.Index(signed, []byte("\r\n\r\n"))
	for _, f := range strings.SplitAfter(string(signed[:end+2]), "\r\n") {
		if strings.HasPrefix(f, "DKIM-Signature:") {
			field := f
			rest := string(signed[strings.Index(string(signed), f)+len(f):])
			for strings.HasPrefix(rest, " ") || strings.HasPrefix(rest, "\t") {
				line, _, _ := strings.Cut(rest, "\r\n")
				field += line + "\r\n"
				rest = rest[len(line)+2:]
			}
			tags, err := dkimtest.Tags(field)
			if err != nil {
				t.Fatal(err)
			}
			return tags["bh"]
		}
	}
	t.Fatal("no DKIM-Signature field")
	return ""
}

// bl02Names are the 25 header names of case BL-02, one of them a 70-char
// custom name.
var bl02Names = []string{
	"From", "To", "Subject", "Date", "Message-ID", "MIME-Version", "Content-Type",
	"Content-Transfer-Encoding", "Cc", "Reply-To", "In-Reply-To", "References",
	"List-Unsubscribe", "List-Unsubscribe-Post", "List-Id", "Sender", "Resent-From",
	"Resent-To", "Resent-Date", "Auto-Submitted", "Feedback-ID", "Precedence",
	"X-Order-Reference-Extended-Tracking-Identifier-For-Fulfilment-Center",
	"X-Mailer", "Importance",
}

// bl02Message is the 5-header message of case BL-02 with extra fields
// appended to its header.
func bl02Message(extra ...string) []byte {
	lines := append([]string{
		"From: Example Pharmacy <noreply@example.test>",
		"To: pat@example.test",
		"Subject: Your order has shipped",
		"Date: Sat, 14 Mar 2026 15:09:26 +0000",
		"Message-ID: <bl02@example.test>",
	}, extra...)
	return crlfLines(append(lines, "", "Your order is on its way.")...)
}

// TestCaseBL02SignatureFolding pins case BL-02: however long h= gets, the
// signature field is folded only where RFC 6376 allows whitespace, keeps
// every line within 998 octets, never ends the header block early, and
// verifies.
func TestCaseBL02SignatureFolding(t *testing.T) {
	t.Parallel()

	t.Run("go-msgauth", func(t *testing.T) {
		t.Parallel()

		// The 25 names added one at a time, then h= lists padded to every
		// length from 50 to 110 so its end crosses every column 60..100.
		var lists [][]string
		for n := 1; n <= len(bl02Names); n++ {
			lists = append(lists, bl02Names[:n])
		}
		lengths := map[int]bool{}
		for target := 50; target <= 110; target++ {
			pad := "X-" + strings.Repeat("p", target-len("From:To:Subject:")-2)
			list := []string{"From", "To", "Subject", pad}
			lengths[len(strings.Join(list, ":"))] = true
			lists = append(lists, list)
		}
		for col := 60; col <= 100; col++ {
			if !lengths[col] {
				t.Fatalf("no h= list of length %d", col)
			}
		}

		keys := []*Key{sharedRSAKey(), fixedEd25519Key()}
		for _, canon := range []msgauth.Canonicalization{
			msgauth.CanonicalizationSimple, msgauth.CanonicalizationRelaxed,
		} {
			var signed [][]byte
			for _, list := range lists {
				msg := bl02Message()
				for _, k := range keys {
					msg = msgauthSign(t, msg, k, canon, list)
				}
				checkHeaderBlock(t, msg)
				signed = append(signed, msg)
			}
			requireAllVerified(t, signed, len(keys), keys...)
		}
	})

	t.Run("Signer", func(t *testing.T) {
		t.Parallel()

		// Selectors of growing length shift where h= starts; fields added
		// one at a time make it longer, so folds land on every column.
		adds := []string{
			"Cc: a@example.test", "References: <r1@example.test>",
			"Reply-To: r@example.test", "To: b@example.test",
			"In-Reply-To: <p@example.test>", "List-Unsubscribe: <https://example.test/u>",
			"List-Unsubscribe-Post: List-Unsubscribe=One-Click",
			"X-Order-Reference-Extended-Tracking-Identifier-For-Fulfilment-Center: 1",
			"MIME-Version: 1.0", "Content-Type: text/plain",
		}
		var signed [][]byte
		var keys []*Key
		foldColumns := map[int]bool{}
		for selLen := 1; selLen <= 12; selLen++ {
			key := fixedEd25519Key()
			key.Selector = strings.Repeat("s", selLen)
			keys = append(keys, key)
			s, err := NewSigner(key)
			if err != nil {
				t.Fatal(err)
			}
			for n := 0; n <= 3*len(adds); n++ {
				var extra []string
				for i := range n {
					extra = append(extra, adds[i%len(adds)])
				}
				msg := bl02Message(extra...)
				sig, err := s.Sign(msg)
				if err != nil {
					t.Fatal(err)
				}
				for _, line := range strings.Split(strings.TrimSuffix(string(sig), "\r\n"), "\r\n") {
					if len(line) > foldWidth {
						t.Fatalf("signature line of %d octets: %q", len(line), line)
					}
					foldColumns[len(line)] = true
				}
				full := append(sig, msg...)
				checkHeaderBlock(t, full)
				signed = append(signed, full)
			}
		}
		covered := 0
		for col := 60; col <= foldWidth; col++ {
			if foldColumns[col] {
				covered++
			}
		}
		if covered < 15 {
			t.Errorf("folds landed on only %d of the columns 60..%d", covered, foldWidth)
		}
		requireAllVerified(t, signed, 1, keys...)
	})
}

// msgauthSign signs msg with go-msgauth directly and returns the signed
// message.
func msgauthSign(
	t *testing.T, msg []byte, k *Key, canon msgauth.Canonicalization, names []string,
) []byte {
	t.Helper()
	var out bytes.Buffer
	err := msgauth.Sign(&out, bytes.NewReader(msg), &msgauth.SignOptions{
		Domain:                 k.Domain,
		Selector:               k.Selector,
		Signer:                 k.Signer,
		HeaderCanonicalization: canon,
		BodyCanonicalization:   canon,
		HeaderKeys:             names,
	})
	if err != nil {
		t.Fatal(err)
	}
	return out.Bytes()
}

// requireAllVerified is requireVerified for many messages, with one dkimpy
// round trip for all of them.
func requireAllVerified(t *testing.T, signed [][]byte, want int, keys ...*Key) {
	t.Helper()
	recs := records(keys...)
	for i, msg := range signed {
		for name, got := range map[string][]bool{
			"go-msgauth": verifyMsgauth(t, msg, recs),
			"dkimtest":   verifyDkimtest(t, msg, recs),
		} {
			if len(got) != want || bytes.Contains([]byte(fmt.Sprint(got)), []byte("false")) {
				t.Errorf("message %d: %s results %v", i, name, got)
			}
		}
	}
	for i, got := range verifyDkimpy(t, signed, recs) {
		if len(got) != want || bytes.Contains([]byte(fmt.Sprint(got)), []byte("false")) {
			t.Errorf("message %d: dkimpy results %v", i, got)
		}
	}
}
