package bounce

import (
	"io"
	"net/mail"
	"regexp"
	"strings"
)

// Parse reads a bounce or complaint of any shape the package knows:
// an RFC 3464 DSN, an RFC 5965 feedback report, or, failing both, a
// free-text bounce (see heuristicReports). It returns ErrNotReport for
// anything else, including other report types such as read receipts.
func Parse(r io.Reader) ([]Report, error) {
	reports, _, err := parse(r)
	return reports, err
}

// parse is Parse that also returns the address the returned message was
// sent from, which the Server checks as a VERP address when the report
// reached postmaster or abuse instead.
func parse(r io.Reader) ([]Report, returned, error) {
	msg, err := readMessage(r)
	if err != nil {
		return nil, returned{}, err
	}
	rep, rt, ok := findReport(msg, 0)
	if !ok {
		return heuristicReports(msg)
	}
	switch rt {
	case reportTypeDSN:
		return dsnReports(rep)
	case reportTypeARF:
		report, ret, err := arfReport(rep)
		if err != nil {
			return nil, ret, err
		}
		return []Report{report}, ret, nil
	}
	return nil, returned{}, ErrNotReport
}

const (
	// heuristicScanBytes bounds the text searched for a status line.
	heuristicScanBytes = 64 << 10
	// heuristicLookBack is how many lines above a status line may name the
	// recipient (qmail and Exim put the address on its own line).
	heuristicLookBack = 3
)

var (
	// statusLine finds an SMTP reply code followed by an enhanced status
	// code, "550 5.1.1" or "550-5.1.1"; the classes must agree (checked in
	// code).
	statusLine = regexp.MustCompile(`(?:^|[\s:(\[#])([245])\d\d[ -]#?([245]\.\d{1,3}\.\d{1,3})\b`)

	// addressLike finds address candidates; normaliseAddress decides.
	addressLike = regexp.MustCompile(`[A-Za-z0-9._%+=-]+@[A-Za-z0-9.-]+[A-Za-z0-9]`)

	// quotedStart marks where a bounce starts quoting the original message;
	// nothing after it is read as a status line.
	quotedStart = regexp.MustCompile(`(?i)^(?:-+ ?(?:original message|` +
		`below this line|this is a copy)|` +
		`(?:return-path|received|message-id|from|to|subject|date):\s)`)

	// quotedMessageID and quotedReturnPath read those two headers from the
	// quoted copy, for correlation only.
	quotedMessageID  = regexp.MustCompile(`(?im)^message-id:\s*(<[^>\s]+>)`)
	quotedReturnPath = regexp.MustCompile(`(?im)^return-path:\s*(<[^>\s]+>)`)
)

// Subjects of free-text bounces from the common MTAs, lower case, after
// RFC 2047 decoding.
var bounceSubjects = []string{
	"undeliverable", "undelivered mail", "delivery status notification",
	"mail delivery failed", "delivery failure", "failure notice", "returned mail",
	"mail delivery system", "delivery has failed", "unzustellbar", "non remis",
	"non distribuable", "no se puede entregar",
}

// heuristicReports reads a bounce that is not a multipart/report. It is
// conservative: the message must come from a mailer daemon or postmaster,
// or carry a bounce subject, and its text must contain an SMTP reply code
// with a matching enhanced status code ("550 5.1.1") before any quoted
// copy of the original message. Only then does it report, one Report per
// recipient whose address stands on or just above a status line (or a
// single recipient-less Report).
func heuristicReports(msg part) ([]Report, returned, error) {
	if !fromDaemon(msg) && !bounceSubject(msg) {
		return nil, returned{}, ErrNotReport
	}
	text, ok := firstText(msg, 0)
	if !ok {
		return nil, returned{}, ErrNotReport
	}
	if len(text) > heuristicScanBytes {
		text = text[:heuristicScanBytes]
	}

	ret := returned{}
	if m := quotedMessageID.FindStringSubmatch(text); m != nil {
		ret.messageID = normaliseMessageID(m[1])
	}
	if m := quotedReturnPath.FindStringSubmatch(text); m != nil {
		ret.returnPath = normaliseAddress(m[1])
	}
	if c, ok := childOfType(msg.children(), "message/rfc822", "text/rfc822-headers"); ok {
		h := readHeaderLenient(c.body)
		if id := normaliseMessageID(h.Get("Message-Id")); id != "" {
			ret.messageID = id
		}
		if rp := normaliseAddress(h.Get("Return-Path")); rp != "" {
			ret.returnPath = rp
		}
	}

	reports := scanStatusLines(text, ret)
	if len(reports) == 0 {
		return nil, ret, ErrNotReport
	}
	return reports, ret, nil
}

// scanStatusLines applies statusLine to the text above any quoted copy.
func scanStatusLines(text string, ret returned) []Report {
	lines := strings.Split(strings.ReplaceAll(text, "\r\n", "\n"), "\n")
	var reports []Report
	seen := map[string]bool{}
	for i, line := range lines {
		if quotedStart.MatchString(strings.TrimSpace(line)) {
			break
		}
		m := statusLine.FindStringSubmatch(line)
		if m == nil || m[1] != m[2][:1] || m[1] == "2" {
			continue
		}
		status := normaliseStatus(m[2])
		if status == "" {
			continue
		}
		rcpt := nearbyRecipient(lines, i, ret.returnPath)
		if seen[rcpt] || len(reports) == MaxDSNRecipients {
			continue
		}
		seen[rcpt] = true
		r := Report{Recipient: rcpt, Status: status, OriginalMessageID: ret.messageID}
		if m[1] == "5" {
			r.Kind, r.Action = KindBounce, "failed"
			r.Hard, _ = Classify(status)
		} else {
			r.Kind, r.Action = KindDelay, "delayed"
		}
		reports = append(reports, r)
	}
	if len(reports) > 1 && seen[""] {
		// A status line without an address next to others that have one
		// is a summary line, not another recipient.
		kept := reports[:0]
		for _, r := range reports {
			if r.Recipient != "" {
				kept = append(kept, r)
			}
		}
		reports = kept
	}
	return reports
}

// nearbyRecipient returns the one address on line i or the few lines above
// it, or "" when there is none or more than one. The return path is never
// a recipient.
func nearbyRecipient(lines []string, i int, returnPath string) string {
	found := ""
	for j := i; j >= 0 && j >= i-heuristicLookBack; j-- {
		if j < i && strings.TrimSpace(lines[j]) == "" {
			break
		}
		for _, cand := range addressLike.FindAllString(lines[j], -1) {
			a := normaliseAddress(cand)
			if a == "" || strings.EqualFold(a, returnPath) {
				continue
			}
			if found != "" && !strings.EqualFold(found, a) {
				return ""
			}
			found = a
		}
		if found != "" {
			return found
		}
	}
	return found
}

// fromDaemon reports whether From names a mailer daemon or postmaster.
func fromDaemon(msg part) bool {
	addr, err := mail.ParseAddress(decodeHeader(msg.header.Get("From")))
	if err != nil {
		return false
	}
	local, _, _ := strings.Cut(strings.ToLower(addr.Address), "@")
	switch local {
	case "mailer-daemon", "postmaster", "mail-daemon", "maildaemon":
		return true
	}
	return false
}

func bounceSubject(msg part) bool {
	s := strings.ToLower(decodeHeader(msg.header.Get("Subject")))
	for _, b := range bounceSubjects {
		if strings.Contains(s, b) {
			return true
		}
	}
	return false
}

// firstText returns the first text/plain body in a depth-first walk.
func firstText(p part, depth int) (string, bool) {
	t, _ := p.mediaType()
	if t == "text/plain" {
		return string(p.body), true
	}
	if depth >= maxDepth || !strings.HasPrefix(t, "multipart/") {
		return "", false
	}
	for _, c := range p.children() {
		if s, ok := firstText(c, depth+1); ok {
			return s, true
		}
	}
	return "", false
}
