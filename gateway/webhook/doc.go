// Package webhook tells the commerce backend about delivery events through
// signed HTTP callbacks.
//
// It owns the webhook payload ([Event]), its signature ([Sign] and, for
// receivers, [Verify]), the secrets that key the signature ([Secrets]) and a
// single delivery attempt to the configured endpoint ([Sender.Send]). It does
// not retry: the queue runs one job per event, calls Send once per attempt,
// spaces attempts with [Backoff] and gives up after [MaxAttempts] or as soon as
// Send returns a [*PermanentError]. It does not decide which events exist;
// the delivery and suppression code builds them.
//
// # The payload
//
// An event is PHI-free by construction: a message id, a type, the message's
// status, the SMTP reply code and enhanced status code, a value-free reason
// token and the time it happened. There is no field for an address, a name, a
// subject or any content, and [Event.Validate] refuses identifiers and
// reasons that look like they carry a value (an '@', a slash, an equals sign,
// upper-case letters, anything outside a small alphabet). The event id is
// created once, when the event is queued, so every retry carries the same id
// and the receiver can drop duplicates.
//
// # The signature
//
// Every request carries three headers:
//
//	Content-Type: application/json
//	Sealpost-Event-Id: <event id>
//	Sealpost-Signature: t=<unix seconds>,v1=<hex>[,v1=<hex>]
//
// Each v1 value is the lower-case hex HMAC-SHA256 (RFC 2104) of the string
// "<unix seconds>.<request body>" under one secret: first the current secret,
// then, during a rotation, the previous one. A receiver holding either secret
// finds a match. Receivers reject a timestamp further than a tolerance
// ([DefaultTolerance]) from their clock, which bounds replays.
//
// Rotation takes three steps: configure "whsec_<new>,whsec_<old>" so both are
// signed, move the receiver to the new secret, then drop the old one.
//
// # Errors and logging
//
// No error from this package repeats a secret, the endpoint URL (beyond what
// the operator already knows from configuration, and never its query), the
// response body, or an event field value. [Secrets] print and log as
// "[redacted]"; a [Sender] logs as its endpoint's scheme and host.
package webhook
