// Package api serves Sealpost's HTTP API: authentication by API key and
// role, templates, message acceptance and status, and API key management.
//
// Every request is validated when it arrives, not when the message is sent.
// Errors are RFC 9457 problem documents (application/problem+json) that name
// the offending field as a JSON pointer and say what is wrong with it; they
// never echo a submitted value, and no input produces a 500.
//
// The package does not deliver mail; it hands accepted messages to the queue.
package api
