// Package capture is the dev-mode inbox: an SMTP server on loopback that
// accepts every message sent to it and keeps it on disk for inspection.
//
// It owns the capture server (go-smtp), the inbox directory (one .eml file
// with the exact bytes received and one JSON sidecar per message, both
// mode 0600) and reading the inbox back. Like a real relay it insists on
// STARTTLS before MAIL, so dev mode exercises the same verified-TLS path as
// production. With Discard set it only counts messages, which makes it a
// benchmark sink.
//
// It does not relay anything onward, authenticate anyone or render
// messages. Logs carry message ids and sizes, never addresses or content.
package capture
