package bounce

import (
	"fmt"
	"io"
	"strings"
)

// maxFeedbackType bounds a feedback type token.
const maxFeedbackType = 32

// ParseARF reads an RFC 5965 feedback report: a multipart/report with
// report-type=feedback-report (at the top or nested in a multipart).
// Recipient comes from the first usable Original-Rcpt-To field; providers
// often redact it.
func ParseARF(r io.Reader) (*Report, error) {
	msg, err := readMessage(r)
	if err != nil {
		return nil, err
	}
	rep, rt, ok := findReport(msg, 0)
	if !ok {
		return nil, ErrNotReport
	}
	if rt != reportTypeARF {
		return nil, ErrWrongReportType
	}
	report, _, err := arfReport(rep)
	if err != nil {
		return nil, err
	}
	return &report, nil
}

// arfReport reads the feedback and returned parts of a feedback report.
// The returned address is Original-Mail-From, or else the returned
// message's Return-Path: for our mail, the VERP address.
func arfReport(rep part) (Report, returned, error) {
	children := rep.children()
	fb, ok := childOfType(children, "message/feedback-report")
	if !ok {
		return Report{}, returned{}, fmt.Errorf("no feedback-report part: %w", ErrMalformed)
	}
	blocks := parseFieldBlocks(fb.body)
	if len(blocks) == 0 {
		return Report{}, returned{}, fmt.Errorf("empty feedback-report part: %w", ErrMalformed)
	}
	fields := blocks[0]

	ft := normaliseFeedbackType(fields.get("feedback-type"))
	if ft == "" {
		return Report{}, returned{}, fmt.Errorf("feedback type: %w", ErrMalformed)
	}
	ret := returnedHeaders(children)
	if from := normaliseAddress(fields.get("original-mail-from")); from != "" {
		ret.returnPath = from
	}

	r := Report{Kind: KindComplaint, FeedbackType: ft, OriginalMessageID: ret.messageID}
	for _, v := range fields["original-rcpt-to"] {
		if a := normaliseAddress(v); a != "" {
			r.Recipient = a
			break
		}
	}
	return r, ret, nil
}

// normaliseFeedbackType returns the lower-case feedback type token
// (RFC 5965 §7.3 registry names are letters, digits and hyphens) or "".
func normaliseFeedbackType(s string) string {
	s = strings.ToLower(strings.TrimSpace(s))
	if s == "" || len(s) > maxFeedbackType {
		return ""
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if (c < 'a' || c > 'z') && (c < '0' || c > '9') && c != '-' {
			return ""
		}
	}
	return s
}
