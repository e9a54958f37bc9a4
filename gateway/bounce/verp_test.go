package bounce_test

import (
	"bytes"
	"encoding/base32"
	"errors"
	"log/slog"
	"strings"
	"testing"

	"github.com/sealpost/sealpost/gateway/bounce"
)

const testMessageID = "0195a1b2-c3d4-7e5f-8a9b-0c1d2e3f4a5b"

func testVERP() bounce.VERP {
	return bounce.VERP{
		Prefix: "bounces",
		Domain: "mail.example.test",
		Secret: []byte("0123456789abcdef0123456789abcdef"),
	}
}

// tokenCodec mirrors the token alphabet so tests can forge tokens.
var tokenCodec = base32.NewEncoding("abcdefghijklmnopqrstuvwxyz234567").
	WithPadding(base32.NoPadding)

func TestVERPRoundTrip(t *testing.T) {
	t.Parallel()
	v := testVERP()
	for _, tc := range []struct {
		name string
		id   string
	}{
		{"uuid v7", testMessageID},
		{"uuid v4", "9b2f6c1e-8d4a-4f3b-9e2d-1a2b3c4d5e6f"},
		{"short raw id", "msg-42"},
		{"raw id at the limit", strings.Repeat("x", 24)},
		{"upper-case uuid kept raw", strings.ToUpper(testMessageID[:20])},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			addr := v.Address(tc.id)
			if addr == "" {
				t.Fatal("Address returned empty")
			}
			local, domain, _ := strings.Cut(addr, "@")
			if domain != "mail.example.test" || !strings.HasPrefix(local, "bounces+") {
				t.Fatalf("address shape %q", addr)
			}
			if len(local) > bounce.MaxLocalPart {
				t.Fatalf("local part %d octets", len(local))
			}
			if strings.ToLower(addr) != addr || strings.Contains(addr, "=") {
				t.Fatalf("address not lower-case unpadded: %q", addr)
			}
			got, ok := v.MessageID(addr)
			if !ok || got != tc.id {
				t.Fatalf("MessageID = %q, %v; want %q", got, ok, tc.id)
			}
			got, ok = v.MessageID("<" + strings.ToUpper(addr) + ">")
			if !ok || got != tc.id {
				t.Fatalf("upper case with brackets: MessageID = %q, %v", got, ok)
			}
		})
	}
}

func TestVERPUUIDFitsWithLongPrefix(t *testing.T) {
	t.Parallel()
	v := testVERP()
	v.Prefix = strings.Repeat("b", bounce.MaxPrefix)
	if addr := v.Address(testMessageID); addr == "" {
		t.Fatal("a UUID must fit with the longest prefix")
	}
}

func TestVERPRefusesUnencodable(t *testing.T) {
	t.Parallel()
	v := testVERP()
	for _, tc := range []struct {
		name string
		v    bounce.VERP
		id   string
	}{
		{"empty id", v, ""},
		{"id too long for a local part", v, strings.Repeat("x", 25)},
		{"id with space", v, "a b"},
		{"id with non-ascii", v, "idé"},
		{"short secret", bounce.VERP{Prefix: "b", Domain: "example.test", Secret: []byte("k")},
			testMessageID},
		{"prefix too long", bounce.VERP{Prefix: strings.Repeat("b", bounce.MaxPrefix+1),
			Domain: "example.test", Secret: v.Secret}, testMessageID},
		{"prefix with plus", bounce.VERP{Prefix: "b+x", Domain: "example.test",
			Secret: v.Secret}, testMessageID},
		{"no domain", bounce.VERP{Prefix: "b", Secret: v.Secret}, testMessageID},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			if addr := tc.v.Address(tc.id); addr != "" {
				t.Fatalf("Address = %q, want empty", addr)
			}
		})
	}
}

func TestVERPForgery(t *testing.T) {
	t.Parallel()
	v := testVERP()
	addr := v.Address(testMessageID)
	local, domain, _ := strings.Cut(addr, "@")
	token := strings.TrimPrefix(local, "bounces+")
	raw, err := tokenCodec.DecodeString(token)
	if err != nil {
		t.Fatal(err)
	}

	flip := func(i int) string {
		b := bytes.Clone(raw)
		b[i] ^= 0x01
		return "bounces+" + tokenCodec.EncodeToString(b) + "@" + domain
	}
	other := v
	other.Secret = []byte("fedcba9876543210fedcba9876543210")
	otherPrefix := v
	otherPrefix.Prefix = "returns"

	for _, tc := range []struct {
		name string
		v    bounce.VERP
		rcpt string
	}{
		{"changed message id", v, flip(5)},
		{"changed hmac", v, flip(len(raw) - 1)},
		{"other message id with this tag", v, splice(t, v, raw)},
		{"truncated token", v, "bounces+" + token[:len(token)-2] + "@" + domain},
		{"other secret", other, addr},
		{"other prefix configured", otherPrefix, addr},
		{"wrong domain", v, local + "@attacker.test"},
		{"subdomain", v, local + "@evil.mail.example.test"},
		{"domain suffix", v, local + "@mail.example.test.attacker.test"},
		{"no plus", v, "bounces" + token + "@" + domain},
		{"non-canonical base32", v, "bounces+" + token + "b@" + domain},
		{"not base32", v, "bounces+" + strings.Replace(token, token[:1], "1", 1) + "@" + domain},
		{"empty token", v, "bounces+@" + domain},
		{"no at sign", v, local},
		{"postmaster", v, "postmaster@" + domain},
		{"raw payload type forged", v, "bounces+" + tokenCodec.EncodeToString(
			append([]byte{0}, make([]byte, 12)...)) + "@" + domain},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			if id, ok := tc.v.MessageID(tc.rcpt); ok {
				t.Fatalf("forged address accepted as %q", id)
			}
		})
	}
}

// splice puts the tag of raw behind the payload of another message's
// token.
func splice(t *testing.T, v bounce.VERP, raw []byte) string {
	t.Helper()
	local, _, _ := strings.Cut(v.Address("9b2f6c1e-8d4a-4f3b-9e2d-1a2b3c4d5e6f"), "@")
	other, err := tokenCodec.DecodeString(strings.TrimPrefix(local, "bounces+"))
	if err != nil {
		t.Fatal(err)
	}
	forged := append(other[:len(other)-10:len(other)-10], raw[len(raw)-10:]...)
	return "bounces+" + tokenCodec.EncodeToString(forged) + "@" + v.Domain
}

func TestVERPValidate(t *testing.T) {
	t.Parallel()
	if err := testVERP().Validate(); err != nil {
		t.Fatalf("valid config: %v", err)
	}
	bad := testVERP()
	bad.Secret = bad.Secret[:bounce.MinSecretBytes-1]
	if err := bad.Validate(); !errors.Is(err, bounce.ErrInvalidVERP) {
		t.Fatalf("short secret: %v", err)
	}
	if strings.Contains(bad.Validate().Error(), string(bad.Secret)) {
		t.Fatal("error echoes the secret")
	}
}

func TestVERPLogValueHidesSecret(t *testing.T) {
	t.Parallel()
	var buf bytes.Buffer
	slog.New(slog.NewTextHandler(&buf, nil)).Info("config", "verp", testVERP())
	if strings.Contains(buf.String(), "0123456789abcdef") {
		t.Fatalf("secret logged: %s", buf.String())
	}
	if !strings.Contains(buf.String(), "secret_set=true") {
		t.Fatalf("log lacks secret_set: %s", buf.String())
	}
}
