package webhook_test

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/sealpost/sealpost/gateway/webhook"
)

// signedForm is the only header shape Sign writes.
var signedForm = regexp.MustCompile(`^t=(0|[1-9][0-9]*)(,v1=[0-9a-f]{64}){1,2}$`)

// FuzzVerify checks that Verify never panics and accepts only a header Sign
// could have written for this secret and body: the exact form, a timestamp
// within tolerance, and the secret's own HMAC as the current or the previous
// signature.
func FuzzVerify(f *testing.F) {
	secret, other := testSecret(1), testSecret(100)
	now := time.Unix(1742000000, 0)
	body := []byte(`{"id":"e1","type":"sent","message_id":"m1","status":"sent"}`)

	for _, secrets := range []webhook.Secrets{
		{Current: secret}, {Current: secret, Previous: other}, {Current: other, Previous: secret},
		{Current: other},
	} {
		f.Add(webhook.Sign(secrets, now, body), body)
		f.Add(webhook.Sign(secrets, now.Add(-time.Hour), body), body)
	}

	f.Add("t=1742000000,v1=", body)
	f.Add("t=,v1=00", []byte{})
	f.Add("v1=abc,t=1", []byte("x"))
	f.Add("t=99999999999999999999,v1="+strings.Repeat("0", 64), body)
	f.Add(strings.Repeat(",", 600), body)

	f.Fuzz(func(t *testing.T, header string, body []byte) {
		err := webhook.Verify(secret, header, body, now, 0)
		if err != nil {
			if !errors.Is(err, webhook.ErrInvalidSignature) {
				t.Fatalf("error %v does not match ErrInvalidSignature", err)
			}

			return
		}

		if !signedForm.MatchString(header) {
			t.Fatalf("accepted a header Sign never writes: %q", header)
		}

		fields := strings.Split(header, ",")
		ts := strings.TrimPrefix(fields[0], "t=")

		unix, perr := strconv.ParseInt(ts, 10, 64)
		if perr != nil || now.Sub(time.Unix(unix, 0)).Abs() > webhook.DefaultTolerance {
			t.Fatalf("accepted a timestamp outside tolerance: %q", header)
		}

		h := hmac.New(sha256.New, secret)
		h.Write([]byte(ts + "."))
		h.Write(body)
		want := "v1=" + hex.EncodeToString(h.Sum(nil))

		own := webhook.Sign(webhook.Secrets{Current: secret}, time.Unix(unix, 0), body)
		asCurrent := header == own || strings.HasPrefix(header, own+",")
		asPrevious := len(fields) == 3 && fields[2] == want

		if own != fields[0]+","+want || !asCurrent && !asPrevious {
			t.Fatalf("accepted a header without this secret's signature: %q", header)
		}
	})
}

// FuzzParseSecrets checks that ParseSecrets never panics, never repeats its
// input in an error, and returns only keys of an allowed length.
func FuzzParseSecrets(f *testing.F) {
	good := webhook.SecretPrefix + strings.Repeat("QUJD", 11)
	for _, seed := range []string{good, good + "," + good, "whsec_", "whsec_====", ",", ""} {
		f.Add(seed)
	}

	f.Fuzz(func(t *testing.T, input string) {
		s, err := webhook.ParseSecrets(input)
		if err != nil {
			if !errors.Is(err, webhook.ErrInvalidSecret) {
				t.Fatalf("error %v does not match ErrInvalidSecret", err)
			}

			if len(input) >= 8 && strings.Contains(err.Error(), input) {
				t.Fatalf("error repeats the input")
			}

			return
		}

		if n := len(s.Current); n < webhook.MinSecretBytes || n > webhook.MaxSecretBytes {
			t.Fatalf("current secret of %d bytes", n)
		}

		if n := len(s.Previous); n != 0 && (n < webhook.MinSecretBytes ||
			n > webhook.MaxSecretBytes) {
			t.Fatalf("previous secret of %d bytes", n)
		}
	})
}
