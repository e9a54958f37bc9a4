package bounce_test

import (
	"bytes"
	"errors"
	"log/slog"
	"strings"
	"testing"

	"github.com/sealpost/sealpost/gateway/bounce"
)

func TestClassify(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		status   string
		hard, ok bool
	}{
		{"5.1.1", true, true},
		{"5.1.10", true, true},
		{"5.1.2", true, true},
		{"5.1.6", true, true},
		{"5.1.7", false, true},
		{"5.1.8", false, true},
		{"5.2.1", true, true},
		{"5.2.2", false, true},
		{"5.2.3", false, true},
		{"5.3.4", false, true},
		{"5.4.4", true, true},
		{"5.4.6", false, true},
		{"5.5.0", false, true},
		{"5.6.1", false, true},
		{"5.7.1", false, true},
		{"5.7.26", false, true},
		{"5.0.0", false, true},
		{"4.1.1", false, true},
		{"4.2.2", false, true},
		{"2.0.0", false, true},
		{"", false, false},
		{"550", false, false},
		{"3.1.1", false, false},
		{"5.01.1", false, false},
		{"5.1.1000", false, false},
		{"5.1.1 ", false, false},
		{"5.1", false, false},
		{"5.a.1", false, false},
	} {
		t.Run(tc.status, func(t *testing.T) {
			t.Parallel()
			hard, ok := bounce.Classify(tc.status)
			if hard != tc.hard || ok != tc.ok {
				t.Fatalf("Classify(%q) = %v, %v; want %v, %v", tc.status, hard, ok, tc.hard, tc.ok)
			}
		})
	}
}

// TestHeuristicsConservative pins free-text inputs that must not become
// reports, and the few that must.
func TestHeuristicsConservative(t *testing.T) {
	t.Parallel()
	daemon := "From: MAILER-DAEMON@mx.example.test\r\nSubject: failure notice\r\n\r\n"
	for _, tc := range []struct {
		name    string
		msg     string
		want    int
		wantErr error
	}{
		{"person quoting a code", "From: pat@example.test\r\nSubject: hi\r\n\r\n" +
			"550 5.1.1 happened\r\n", 0, bounce.ErrNotReport},
		{"daemon without a code", daemon + "Something went wrong.\r\n", 0, bounce.ErrNotReport},
		{"code classes disagree", daemon + "550 4.1.1 odd\r\n", 0, bounce.ErrNotReport},
		{"success code", daemon + "250 2.0.0 ok\r\n", 0, bounce.ErrNotReport},
		{"code only in the quoted copy", daemon + "Could not deliver.\r\n\r\n" +
			"--- Below this line is a copy of the message.\r\n\r\n550 5.1.1 x\r\n", 0,
			bounce.ErrNotReport},
		{"code after quoted headers", daemon + "Could not deliver.\r\n" +
			"Received: from x\r\n550 5.1.1 x\r\n", 0, bounce.ErrNotReport},
		{"bare enhanced code", daemon + "status 5.1.1 user unknown\r\n", 0, bounce.ErrNotReport},
		{"plain bounce", daemon + "<a@example.test>:\r\n550 5.1.1 user unknown\r\n", 1, nil},
		{"two addresses on the line", daemon +
			"a@example.test b@example.test 550 5.1.1 no\r\n", 1, nil},
		{"html only", "From: MAILER-DAEMON@mx.example.test\r\nContent-Type: text/html\r\n\r\n" +
			"<p>550 5.1.1 user unknown</p>\r\n", 0, bounce.ErrNotReport},
		{"empty", "", 0, bounce.ErrNotReport},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			reports, err := bounce.Parse(strings.NewReader(tc.msg))
			if !errors.Is(err, tc.wantErr) || len(reports) != tc.want {
				t.Fatalf("Parse = %+v, %v; want %d reports, err %v", reports, err, tc.want,
					tc.wantErr)
			}
			if tc.name == "two addresses on the line" && reports[0].Recipient != "" {
				t.Fatal("ambiguous recipient must stay empty")
			}
		})
	}
}

func TestParseTooLarge(t *testing.T) {
	t.Parallel()
	big := bytes.Repeat([]byte("a"), bounce.MaxReportBytes+1)
	if _, err := bounce.Parse(bytes.NewReader(big)); !errors.Is(err, bounce.ErrTooLarge) {
		t.Fatalf("err = %v, want ErrTooLarge", err)
	}
}

func TestParseDSNRejectsNonReport(t *testing.T) {
	t.Parallel()
	_, err := bounce.ParseDSN(strings.NewReader("Subject: hi\r\n\r\nhello\r\n"))
	if !errors.Is(err, bounce.ErrNotReport) {
		t.Fatalf("err = %v, want ErrNotReport", err)
	}
	_, err = bounce.ParseARF(strings.NewReader("Subject: hi\r\n\r\nhello\r\n"))
	if !errors.Is(err, bounce.ErrNotReport) {
		t.Fatalf("ARF err = %v, want ErrNotReport", err)
	}
}

func TestReportLogValueHidesRecipient(t *testing.T) {
	t.Parallel()
	var buf bytes.Buffer
	r := bounce.Report{Kind: bounce.KindBounce, Recipient: "pat@example.test", Status: "5.1.1"}
	slog.New(slog.NewJSONHandler(&buf, nil)).Info("report", "report", r)
	if strings.Contains(buf.String(), "pat@") {
		t.Fatalf("recipient logged: %s", buf.String())
	}
	if !strings.Contains(buf.String(), `"recipient_known":true`) {
		t.Fatalf("log lacks recipient_known: %s", buf.String())
	}
}

func TestParseJSONEvents(t *testing.T) {
	t.Parallel()
	const ts = `"timestamp":"2025-03-10T12:00:00Z"`
	for _, tc := range []struct {
		name string
		in   string
		want []bounce.Report
	}{
		{"single hard bounce",
			`{"type":"bounce","message_id":"m1","recipient":"Pat@Example.TEST",` +
				`"status":"5.1.1","diagnostic":"550 5.1.1 unknown",` + ts + `}`,
			[]bounce.Report{{Kind: bounce.KindBounce, MessageID: "m1",
				Recipient: "Pat@example.test", Status: "5.1.1", Action: "failed", Hard: true}}},
		{"array with delay and complaint",
			`[{"type":"bounce","message_id":"m2","recipient":"a@example.test",` +
				`"status":"4.2.2",` + ts + `},` +
				`{"type":"complaint","message_id":"m3","recipient":"b@example.test",` + ts + `}]`,
			[]bounce.Report{
				{Kind: bounce.KindDelay, MessageID: "m2", Recipient: "a@example.test",
					Status: "4.2.2", Action: "delayed"},
				{Kind: bounce.KindComplaint, MessageID: "m3", Recipient: "b@example.test",
					FeedbackType: "abuse"},
			}},
		{"policy bounce is soft",
			`{"type":"bounce","message_id":"m4","recipient":"c@example.test",` +
				`"status":"5.7.1",` + ts + `}`,
			[]bounce.Report{{Kind: bounce.KindBounce, MessageID: "m4",
				Recipient: "c@example.test", Status: "5.7.1", Action: "failed"}}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			got, err := bounce.ParseJSONEvents(strings.NewReader(tc.in))
			if err != nil {
				t.Fatal(err)
			}
			if !equalReports(got, tc.want) {
				t.Fatalf("got %+v\nwant %+v", got, tc.want)
			}
		})
	}
}

func TestParseJSONEventsStrict(t *testing.T) {
	t.Parallel()
	const ts = `"timestamp":"2025-03-10T12:00:00Z"`
	const secret = "canary-pat@example.test"
	good := `"type":"bounce","message_id":"m1","recipient":"p@example.test","status":"5.1.1",`
	for _, tc := range []struct {
		name string
		in   string
	}{
		{"unknown field", `{` + good + ts + `,"` + secret + `":1}`},
		{"unknown type", `{"type":"` + secret + `","message_id":"m","recipient":` +
			`"p@example.test",` + ts + `}`},
		{"recipient not an address", `{"type":"complaint","message_id":"m","recipient":"` +
			secret + ` x",` + ts + `}`},
		{"recipient non-ascii", `{"type":"complaint","message_id":"m",` +
			`"recipient":"pät@example.test",` + ts + `}`},
		{"missing timestamp", `{` + strings.TrimSuffix(good, ",") + `}`},
		{"bad timestamp", `{` + good + `"timestamp":"` + secret + `"}`},
		{"missing message id", `{"type":"complaint","recipient":"p@example.test",` + ts + `}`},
		{"bounce without status", `{"type":"bounce","message_id":"m",` +
			`"recipient":"p@example.test",` + ts + `}`},
		{"bounce with success status", `{"type":"bounce","message_id":"m",` +
			`"recipient":"p@example.test","status":"2.0.0",` + ts + `}`},
		{"status with comment", `{"type":"bounce","message_id":"m",` +
			`"recipient":"p@example.test","status":"5.1.1 ` + secret + `",` + ts + `}`},
		{"complaint with status", `{"type":"complaint","message_id":"m",` +
			`"recipient":"p@example.test","status":"5.1.1",` + ts + `}`},
		{"wrong field type", `{"type":"bounce","message_id":7,` + ts + `}`},
		{"trailing data", `{` + good + ts + `} {"` + secret + `":1}`},
		{"syntax error", `{"type":"` + secret},
		{"empty array", `[]`},
		{"empty input", ``},
		{"null", `null`},
		{"long diagnostic", `{` + good + `"diagnostic":"` + strings.Repeat("d", 1001) +
			`",` + ts + `}`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			_, err := bounce.ParseJSONEvents(strings.NewReader(tc.in))
			if !errors.Is(err, bounce.ErrInvalidEvent) {
				t.Fatalf("err = %v, want ErrInvalidEvent", err)
			}
			if strings.Contains(err.Error(), "canary") || strings.Contains(err.Error(), "@") {
				t.Fatalf("error echoes input: %v", err)
			}
		})
	}
}
