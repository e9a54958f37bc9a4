// Package dkimtest checks DKIM signatures for the tests of package dkim
// without using the code under test or go-msgauth: a small RFC 6376
// verifier written from the specification (simple and relaxed
// canonicalization, rsa-sha256 and ed25519-sha256), and a runner for dkimpy,
// the Python implementation, when it is installed.
//
// It is deliberately plain and string-based so that it shares no structure
// with the signer it checks. It is for tests only.
package dkimtest
