package bounce

import (
	"log/slog"
	"strings"
)

// Kind says what a Report is about.
type Kind string

// Report kinds.
const (
	// KindBounce is a permanent failure (DSN action "failed", a 5.x.x
	// status, or a provider bounce event).
	KindBounce Kind = "bounce"
	// KindDelay is a transient failure: the remote side still retries.
	KindDelay Kind = "delay"
	// KindComplaint is a feedback report: the recipient marked the message
	// as spam or otherwise reported it.
	KindComplaint Kind = "complaint"
	// KindDelivery is a positive DSN (action delivered, relayed or
	// expanded). Nothing needs to happen; it is reported so a caller can
	// record it.
	KindDelivery Kind = "delivery"
)

// Report is one value-free finding about one recipient of one message. It
// holds identifiers and codes only: never the returned message, its
// subject or the diagnostic text.
type Report struct {
	Kind Kind
	// MessageID is Sealpost's message id, from the VERP token of the
	// address the report was delivered to; empty when unknown (the
	// parsers never fill it, the Server does).
	MessageID string
	// Recipient is the final (or, failing that, original) recipient as the
	// report states it: ASCII, domain in lower case; empty when absent
	// or not a plain ASCII address.
	Recipient string
	// Status is the RFC 3463 enhanced status code, e.g. "5.1.1"; empty
	// when absent.
	Status string
	// Action is the RFC 3464 §2.3.3 action: failed, delayed, delivered,
	// relayed or expanded; empty for complaints.
	Action string
	// Hard marks a permanent failure that is the recipient address's fault
	// (see Classify); a hard bounce is grounds for suppression.
	Hard bool
	// FeedbackType is the RFC 5965 §3.5 feedback type of a complaint:
	// abuse, fraud, virus, other, not-spam, auth-failure, ...
	FeedbackType string
	// OriginalMessageID is the Message-ID header of the returned message,
	// without angle brackets, if the report includes it.
	OriginalMessageID string
}

// LogValue logs a Report without its recipient.
func (r Report) LogValue() slog.Value {
	return slog.GroupValue(
		slog.String("kind", string(r.Kind)),
		slog.String("message_id", r.MessageID),
		slog.String("status", r.Status),
		slog.String("action", r.Action),
		slog.Bool("hard", r.Hard),
		slog.String("feedback_type", r.FeedbackType),
		slog.Bool("recipient_known", r.Recipient != ""),
	)
}

// Classify reads an RFC 3463 enhanced status code. ok is false when status
// is not one. hard is true only for permanent failures that say the
// recipient address itself is bad, the ones that justify suppressing it:
//
//   - 5.1.x addressing (no such user, bad domain, mailbox moved), except
//     5.1.7 and 5.1.8, which are about our sender address;
//   - 5.2.1 mailbox disabled;
//   - 5.4.4 unable to route (the domain has no mail server).
//
// Every other 5.x.x is permanent for that one message but not hard: 5.7.x
// is the receiver's policy (spam filtering, DMARC, blocklists, relaying
// denied), which says nothing about the address and must not suppress a
// real patient; 5.2.2 mailbox full and 5.3.4/5.2.3 message too big are
// conditions of the moment; 5.5.x and 5.6.x are protocol and content
// problems on our side; 5.0.0 says nothing at all. 2.x.x and 4.x.x are
// never hard.
func Classify(status string) (hard bool, ok bool) {
	class, subject, detail, ok := splitStatus(status)
	if !ok {
		return false, false
	}
	if class != "5" {
		return false, true
	}
	switch {
	case subject == "1" && detail != "7" && detail != "8":
		return true, true
	case subject == "2" && detail == "1":
		return true, true
	case subject == "4" && detail == "4":
		return true, true
	}
	return false, true
}

// splitStatus checks the RFC 3463 §2 syntax class.subject.detail: class
// 2, 4 or 5, subject and detail of one to three digits without leading
// zeros.
func splitStatus(s string) (class, subject, detail string, ok bool) {
	parts := strings.Split(s, ".")
	if len(parts) != 3 {
		return "", "", "", false
	}
	if parts[0] != "2" && parts[0] != "4" && parts[0] != "5" {
		return "", "", "", false
	}
	for _, p := range parts[1:] {
		if len(p) == 0 || len(p) > 3 || (len(p) > 1 && p[0] == '0') {
			return "", "", "", false
		}
		for i := 0; i < len(p); i++ {
			if p[i] < '0' || p[i] > '9' {
				return "", "", "", false
			}
		}
	}
	return parts[0], parts[1], parts[2], true
}

// normaliseStatus returns s if it is an enhanced status code, else "".
func normaliseStatus(s string) string {
	s = strings.TrimSpace(s)
	// Some MTAs append a comment: "5.1.1 (bad destination mailbox)".
	if i := strings.IndexAny(s, " \t("); i >= 0 {
		s = s[:i]
	}
	if _, _, _, ok := splitStatus(s); !ok {
		return ""
	}
	return s
}

// Actions from RFC 3464 §2.3.3.
var actions = map[string]bool{
	"failed": true, "delayed": true, "delivered": true, "relayed": true, "expanded": true,
}

// normaliseAction returns the lower-case action or "".
func normaliseAction(s string) string {
	s = strings.ToLower(strings.TrimSpace(s))
	// "expanded (to multi-recipient alias)" style comments.
	if i := strings.IndexAny(s, " \t("); i >= 0 {
		s = s[:i]
	}
	if !actions[s] {
		return ""
	}
	return s
}

// maxAddress is the longest path RFC 5321 §4.5.3.1.3 allows, less the
// angle brackets.
const maxAddress = 254

// normaliseAddress returns a plain ASCII addr-spec local@domain with the
// domain in lower case, or "" when s is not one. It accepts surrounding
// angle brackets and whitespace, nothing else: no display names, no
// comments, no quoted local parts.
func normaliseAddress(s string) string {
	s = strings.TrimSpace(s)
	if strings.HasPrefix(s, "<") && strings.HasSuffix(s, ">") {
		s = strings.TrimSpace(s[1 : len(s)-1])
	}
	if len(s) > maxAddress {
		return ""
	}
	at := strings.LastIndexByte(s, '@')
	if at <= 0 || at > MaxLocalPart {
		return ""
	}
	local, domain := s[:at], strings.ToLower(s[at+1:])
	for i := 0; i < len(local); i++ {
		c := local[i]
		if c <= ' ' || c >= 0x7f || strings.IndexByte(`"(),:;<>@[\]`, c) >= 0 {
			return ""
		}
	}
	if !validDomain(domain) {
		return ""
	}
	return local + "@" + domain
}

// validDomain accepts a lower-case ASCII host name of labels of letters,
// digits and hyphens (RFC 5321 §4.1.2 Domain), at most 253 octets.
func validDomain(d string) bool {
	if d == "" || len(d) > 253 {
		return false
	}
	for _, label := range strings.Split(d, ".") {
		if label == "" || len(label) > 63 || label[0] == '-' || label[len(label)-1] == '-' {
			return false
		}
		for i := 0; i < len(label); i++ {
			c := label[i]
			if (c < 'a' || c > 'z') && (c < '0' || c > '9') && c != '-' {
				return false
			}
		}
	}
	return true
}

// maxMessageIDHeader bounds a Message-ID kept from a returned message;
// RFC 5322 §2.1.1 caps a line at 998 octets, ids in practice are short.
const maxMessageIDHeader = 255

// normaliseMessageID returns the msg-id of a Message-ID header value
// without angle brackets, or "" when it is not a single plain id.
func normaliseMessageID(s string) string {
	s = strings.TrimSpace(s)
	if !strings.HasPrefix(s, "<") || !strings.HasSuffix(s, ">") {
		return ""
	}
	s = s[1 : len(s)-1]
	at := strings.IndexByte(s, '@')
	if at <= 0 || at == len(s)-1 || len(s) > maxMessageIDHeader {
		return ""
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c <= ' ' || c >= 0x7f || c == '<' || c == '>' {
			return ""
		}
	}
	return s
}
