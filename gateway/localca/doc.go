// Package localca is a small certificate authority for development and tests.
//
// It owns one self-signed ECDSA P-256 root and issues short server and client
// certificates from it: dev mode uses it for the capture inbox's STARTTLS
// certificate (trusted by the relay client through Pool), and tests across
// the repository use it to stand up real TLS on loopback, including expired
// and otherwise broken certificates.
//
// It does not own production certificates, revocation or renewal, and it is
// never a trust root outside the data directory it was created in.
package localca
