// Package address parses and normalises the mailboxes Sealpost writes into
// message headers and SMTP envelopes.
//
// It owns one job: turning an untrusted sender or recipient address (and an
// optional display name) into an [Address] that is safe to place in a header
// and in a MAIL FROM or RCPT TO command. It does not resolve domains, check
// suppression or consent, or format whole header fields; folding and RFC 2047
// encoding of display names for the wire belong to the gateway/mime package.
//
// # What is accepted
//
// Parse takes a bare addr-spec ("pat@example.test") as defined by RFC 5321
// §4.1.2, never a "Name <addr>" form, a group, or a comment:
//
//   - The local part is a dot-atom of ASCII atext. Quoted local parts
//     ("\"pat smith\"@example.test") are rejected: they are legal but rare,
//     and they are a common way to smuggle specials past downstream parsers.
//   - Non-ASCII local parts are rejected, because delivering them needs the
//     SMTPUTF8 extension (RFC 6531), which Sealpost does not offer.
//   - The domain must have at least one dot and valid LDH labels. Address
//     literals ("[192.0.2.1]") are rejected. Internationalised domains are
//     converted to lower-case A-labels with the IDNA lookup profile of
//     golang.org/x/net/idna; ASCII domains are lower-cased. The local part
//     keeps its case, because RFC 5321 §2.4 leaves its meaning to the
//     receiving host.
//   - Lengths follow RFC 5321 §4.5.3.1: at most 64 octets of local part, 255
//     of domain, and 254 for the whole address (the 256-octet path minus the
//     angle brackets, per RFC 3696 errata 1690).
//
// Display names are UTF-8 of at most [MaxNameRunes] characters on a single
// line: control characters (including CR, LF, NUL and TAB), the Unicode line
// and paragraph separators, and ASCII text that would decode as an RFC 2047
// encoded word into a control character are all rejected.
//
// # Errors and logging
//
// Every rejection is an [*InvalidError] that matches [ErrInvalid] and carries
// a short Reason such as "domain label too long". Neither the error nor its
// reason ever repeats the input, so errors may be logged, returned to API
// clients and stored as job errors without leaking an address.
//
// An [Address] logs through [log/slog] as its domain only.
package address
