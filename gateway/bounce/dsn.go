package bounce

import (
	"fmt"
	"io"
	"strings"
)

// Report types of RFC 6522 multipart/report this package reads.
const (
	reportTypeDSN = "delivery-status"
	reportTypeARF = "feedback-report"
)

// MaxDSNRecipients caps the per-recipient blocks read from one DSN, the
// recipient count RFC 5321 §4.5.3.1.8 asks a server to accept.
const MaxDSNRecipients = 100

// ParseDSN reads an RFC 3464 delivery status notification: a
// multipart/report with report-type=delivery-status (found at the top or
// nested in a multipart), returning one Report per recipient block.
// Positive notifications come back as KindDelivery.
func ParseDSN(r io.Reader) ([]Report, error) {
	msg, err := readMessage(r)
	if err != nil {
		return nil, err
	}
	rep, rt, ok := findReport(msg, 0)
	if !ok {
		return nil, ErrNotReport
	}
	if rt != reportTypeDSN {
		return nil, ErrWrongReportType
	}
	reports, _, err := dsnReports(rep)
	return reports, err
}

// dsnReports reads the status and returned parts of a delivery-status
// report.
func dsnReports(rep part) ([]Report, returned, error) {
	children := rep.children()
	status, ok := childOfType(children, "message/delivery-status",
		"message/global-delivery-status")
	if !ok {
		return nil, returned{}, fmt.Errorf("no delivery-status part: %w", ErrMalformed)
	}
	ret := returnedHeaders(children)

	var reports []Report
	for _, b := range parseFieldBlocks(status.body) {
		if len(reports) == MaxDSNRecipients {
			break
		}
		if r, ok := recipientReport(b); ok {
			r.OriginalMessageID = ret.messageID
			reports = append(reports, r)
		}
	}
	if len(reports) == 0 {
		return nil, ret, fmt.Errorf("no recipient fields: %w", ErrMalformed)
	}
	return reports, ret, nil
}

// recipientReport turns one per-recipient block (RFC 3464 §2.3) into a
// Report. Blocks without a usable action or status, such as the
// per-message block, are skipped.
func recipientReport(b fieldBlock) (Report, bool) {
	status := refineStatus(normaliseStatus(b.get("status")), b.get("diagnostic-code"))
	action := normaliseAction(b.get("action"))
	if action == "" {
		action = actionFromStatus(status)
	}
	if action == "" {
		return Report{}, false
	}

	recipient := typedAddress(b.get("final-recipient"))
	if recipient == "" {
		recipient = typedAddress(b.get("original-recipient"))
	}

	r := Report{Recipient: recipient, Status: status, Action: action}
	switch action {
	case "failed":
		r.Kind = KindBounce
		r.Hard, _ = Classify(status)
	case "delayed":
		r.Kind = KindDelay
	default:
		r.Kind = KindDelivery
	}
	return r, true
}

// actionFromStatus infers the action of a block that omits it.
func actionFromStatus(status string) string {
	switch {
	case strings.HasPrefix(status, "5."):
		return "failed"
	case strings.HasPrefix(status, "4."):
		return "delayed"
	case strings.HasPrefix(status, "2."):
		return "delivered"
	}
	return ""
}

// refineStatus replaces a generic x.0.0 status with the enhanced code in
// the remote server's reply, when Diagnostic-Code quotes one of the same
// class ("smtp; 550 5.1.1 ..."): Exim and some gateways report 5.0.0 for
// every failure. The diagnostic text itself is never kept.
func refineStatus(status, diagnostic string) string {
	if !strings.HasSuffix(status, ".0.0") {
		return status
	}
	m := statusLine.FindStringSubmatch(diagnostic)
	if m == nil || m[1] != m[2][:1] || m[2][:1] != status[:1] {
		return status
	}
	if refined := normaliseStatus(m[2]); refined != "" {
		return refined
	}
	return status
}
