package webhook_test

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/sealpost/sealpost/gateway/webhook"
)

func encodeSecret(key []byte) string {
	return webhook.SecretPrefix + base64.StdEncoding.EncodeToString(key)
}

func TestParseSecrets(t *testing.T) {
	t.Parallel()

	cur, prev := testSecret(1), testSecret(100)
	raw := webhook.SecretPrefix + base64.RawStdEncoding.EncodeToString(cur)

	tests := []struct {
		name     string
		input    string
		current  []byte
		previous []byte
	}{
		{"one secret", encodeSecret(cur), cur, nil},
		{"two secrets", encodeSecret(cur) + "," + encodeSecret(prev), cur, prev},
		{"spaces around entries", " " + encodeSecret(cur) + " , " + encodeSecret(prev) + "\n",
			cur, prev},
		{"unpadded base64", raw, cur, nil},
		{"long secret", encodeSecret(bytes.Repeat([]byte{7}, 64)), bytes.Repeat([]byte{7}, 64),
			nil},
	}

	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()

			got, err := webhook.ParseSecrets(tt.input)
			if err != nil {
				t.Fatalf("ParseSecrets: %v", err)
			}

			if !bytes.Equal(got.Current, tt.current) || !bytes.Equal(got.Previous, tt.previous) {
				t.Fatalf("ParseSecrets returned the wrong keys")
			}
		})
	}
}

func TestParseSecretsRejects(t *testing.T) {
	t.Parallel()

	// The secret material is distinctive so a leak into the error shows.
	key := []byte("canary-secret-0123456789abcdefghij")
	good := encodeSecret(key)

	tests := []struct {
		name  string
		input string
	}{
		{"empty", ""},
		{"only comma", ","},
		{"no prefix", base64.StdEncoding.EncodeToString(key)},
		{"wrong prefix", "whsk_" + base64.StdEncoding.EncodeToString(key)},
		{"not base64", webhook.SecretPrefix + "canary-secret!!"},
		{"url-safe base64", webhook.SecretPrefix +
			base64.URLEncoding.EncodeToString(bytes.Repeat([]byte{0xfb}, 33))},
		{"too short", encodeSecret(key[:webhook.MinSecretBytes-1])},
		{"too long", encodeSecret(bytes.Repeat([]byte{1}, webhook.MaxSecretBytes+1))},
		{"three secrets", good + "," + good + "," + good},
		{"empty second", good + ","},
	}

	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()

			_, err := webhook.ParseSecrets(tt.input)
			if !errors.Is(err, webhook.ErrInvalidSecret) {
				t.Fatalf("ParseSecrets = %v, want ErrInvalidSecret", err)
			}

			msg := err.Error()
			leaked := tt.input != "" && strings.Contains(msg, tt.input)
			if leaked || strings.Contains(msg, "canary") {
				t.Fatalf("error repeats the secret: %v", err)
			}
		})
	}
}

// TestSecretsRedacted prints and logs Secrets every way a config dump might.
func TestSecretsRedacted(t *testing.T) {
	t.Parallel()

	s := webhook.Secrets{Current: []byte("canary-current-secret-xxxxxxxxxxx"),
		Previous: []byte("canary-previous-secret-xxxxxxxxxx")}

	var logs bytes.Buffer
	logger := slog.New(slog.NewJSONHandler(&logs, nil))
	logger.Info("config", slog.Any("secrets", s), slog.Any("ptr", &s))

	text := slog.New(slog.NewTextHandler(&logs, nil))
	text.Info("config", "secrets", s)

	js, err := json.Marshal(struct{ S webhook.Secrets }{s})
	if err != nil {
		t.Fatalf("json: %v", err)
	}

	outputs := []string{
		fmt.Sprint(s), fmt.Sprintf("%v %+v %#v %s %q %x %X %d", s, s, s, s, s, s, s, s),
		fmt.Sprintf("%v", &s), fmt.Sprintf("%v", struct{ S webhook.Secrets }{s}),
		logs.String(), string(js),
	}

	for _, out := range outputs {
		if strings.Contains(out, "canary") || strings.Contains(out, "63616e617279") ||
			strings.Contains(out, "99 97 110") {
			t.Fatalf("secret printed: %s", out)
		}

		if !strings.Contains(out, "[redacted]") {
			t.Fatalf("no redaction marker in %s", out)
		}
	}
}

func TestGenerateSecret(t *testing.T) {
	t.Parallel()

	a, err := webhook.GenerateSecret()
	if err != nil {
		t.Fatalf("GenerateSecret: %v", err)
	}

	b, _ := webhook.GenerateSecret()
	if a == b {
		t.Fatalf("two generated secrets are equal")
	}

	s, err := webhook.ParseSecrets(a + "," + b)
	if err != nil {
		t.Fatalf("generated secrets do not parse: %v", err)
	}

	if len(s.Current) != webhook.MinSecretBytes || len(s.Previous) != webhook.MinSecretBytes {
		t.Fatalf("generated secrets have the wrong length")
	}
}

func TestSignGolden(t *testing.T) {
	t.Parallel()

	body, err := webhook.Encode(testEvent())
	if err != nil {
		t.Fatalf("Encode: %v", err)
	}

	at := time.Unix(1742000000, 0)
	one := webhook.Sign(webhook.Secrets{Current: testSecret(1)}, at, body)
	rotating := webhook.Secrets{Current: testSecret(1), Previous: testSecret(100)}
	two := webhook.Sign(rotating, at, body)

	golden(t, "signature.txt", []byte(one+"\n"+two+"\n"))

	if !strings.HasPrefix(two, one+",v1=") {
		t.Fatalf("the current secret's signature must come first")
	}
}

func TestSignSkipsEmptyAndDuplicate(t *testing.T) {
	t.Parallel()

	at, body := time.Unix(1742000000, 0), []byte("{}")
	single := webhook.Sign(webhook.Secrets{Current: testSecret(1)}, at, body)

	if got := webhook.Sign(webhook.Secrets{Current: testSecret(1), Previous: testSecret(1)},
		at, body); got != single {
		t.Fatalf("duplicate previous secret signed twice: %s", got)
	}

	if got := webhook.Sign(webhook.Secrets{}, at, body); got != "t=1742000000" {
		t.Fatalf("Sign with no secrets = %q", got)
	}
}

func TestVerify(t *testing.T) {
	t.Parallel()

	cur, prev, other := testSecret(1), testSecret(100), testSecret(200)
	both := webhook.Secrets{Current: cur, Previous: prev}
	now := time.Unix(1742000000, 0)
	body := []byte(`{"id":"e1","type":"sent"}`)
	header := webhook.Sign(both, now, body)
	currentSig := header[len("t=1742000000,v1="):][:64]

	tests := []struct {
		name      string
		secret    []byte
		header    string
		body      []byte
		now       time.Time
		tolerance time.Duration
		want      error
	}{
		{"current secret", cur, header, body, now, 0, nil},
		{"previous secret during rotation", prev, header, body, now, 0, nil},
		{"only current signed", cur, webhook.Sign(webhook.Secrets{Current: cur}, now, body),
			body, now, 0, nil},
		{"previous after rotation ends", prev,
			webhook.Sign(webhook.Secrets{Current: cur}, now, body), body, now, 0,
			webhook.ErrSignatureMismatch},
		{"wrong secret", other, header, body, now, 0, webhook.ErrSignatureMismatch},
		{"tampered body", cur, header, []byte(`{"id":"e1","type":"failed"}`), now, 0,
			webhook.ErrSignatureMismatch},
		{"extra byte in body", cur, header, append(append([]byte{}, body...), ' '), now, 0,
			webhook.ErrSignatureMismatch},
		{"four minutes late", cur, header, body, now.Add(4 * time.Minute), 0, nil},
		{"six minutes late", cur, header, body, now.Add(6 * time.Minute), 0,
			webhook.ErrStaleSignature},
		{"six minutes early", cur, header, body, now.Add(-6 * time.Minute), 0,
			webhook.ErrStaleSignature},
		{"custom tolerance", cur, header, body, now.Add(2 * time.Minute), time.Minute,
			webhook.ErrStaleSignature},
		{"timestamp swapped", cur, strings.Replace(header, "t=1742000000", "t=1742000001", 1),
			body, now, 0, webhook.ErrSignatureMismatch},
		{"empty header", cur, "", body, now, 0, webhook.ErrMalformedSignature},
		{"no v1", cur, "t=1742000000", body, now, 0, webhook.ErrMalformedSignature},
		{"no timestamp", cur, header[strings.Index(header, "v1="):], body, now, 0,
			webhook.ErrMalformedSignature},
		{"upper-case hex", cur, "t=1742000000,v1=" + strings.ToUpper(currentSig), body, now, 0,
			webhook.ErrMalformedSignature},
		{"space after comma", cur, strings.ReplaceAll(header, ",", ", "), body, now, 0,
			webhook.ErrMalformedSignature},
		{"leading zero timestamp", cur, strings.Replace(header, "t=", "t=0", 1), body, now, 0,
			webhook.ErrMalformedSignature},
		{"unknown scheme", cur, header + ",v0=abc", body, now, 0,
			webhook.ErrMalformedSignature},
		{"three signatures", cur, header + header[strings.LastIndex(header, ","):], body, now,
			0, webhook.ErrMalformedSignature},
		{"empty secret", nil, header, body, now, 0, webhook.ErrInvalidSignature},
	}

	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()

			err := webhook.Verify(tt.secret, tt.header, tt.body, tt.now, tt.tolerance)
			if tt.want == nil {
				if err != nil {
					t.Fatalf("Verify: %v", err)
				}

				return
			}

			if !errors.Is(err, tt.want) || !errors.Is(err, webhook.ErrInvalidSignature) {
				t.Fatalf("Verify = %v, want %v", err, tt.want)
			}
		})
	}
}
