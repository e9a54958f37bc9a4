// Package delivery hands one finished, signed message to the configured relay
// (smarthost) over SMTP, and only over verified TLS.
//
// It owns the relay client: dialling, STARTTLS or implicit TLS, AUTH PLAIN,
// the MAIL/RCPT/DATA transaction, per-phase deadlines, a pool of reusable
// connections, and the classification of every failure into one *Error that
// the queue uses to decide between retry and failure. It fails closed: there
// is no plaintext mode, and a relay that does not offer STARTTLS, presents a
// certificate that does not verify, or speaks TLS below 1.2 never receives a
// MAIL command, an address or a message byte.
//
// It does not build, sign or store messages, resolve MX records, or decide
// retry schedules. Errors and log lines never carry addresses, message
// content or the relay's free-text replies (which often echo addresses).
package delivery
