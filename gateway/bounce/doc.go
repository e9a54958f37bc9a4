// Package bounce learns about bounces and complaints and ties each one to
// the message it concerns.
//
// It owns three things:
//
//   - VERP return paths: every message leaves with an envelope sender of the
//     form prefix+token@domain, where the token carries the message id and a
//     truncated HMAC under a server secret, so a bounce names its message
//     and a forged one is refused.
//   - Parsers that turn an RFC 3464 delivery status notification, an
//     RFC 5965 feedback report, a provider's JSON event or (conservatively)
//     a free-text bounce into value-free Reports: kind, status, action,
//     recipient and the ids needed for correlation, never the returned
//     content or the diagnostic text.
//   - An inbound SMTP server (go-smtp) that accepts mail only for verified
//     VERP addresses and the domain's postmaster and abuse mailboxes,
//     parses it in memory and hands the Reports to a callback.
//
// It does not store anything, decide suppression or touch message rows:
// the callback does that. The received bytes live only in memory for the
// length of one DATA command. Logs carry counts and kinds, never addresses
// or content.
package bounce
