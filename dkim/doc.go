// Package dkim owns the DomainKeys Identified Mail side of outbound mail:
// generating signing keys, keeping them on disk, publishing their DNS TXT
// records and adding DKIM-Signature header fields (RFC 6376) to finished
// messages, with RSA-SHA256 and Ed25519-SHA256 (RFC 8463) keys, singly or
// both at once.
//
// It does not build MIME and does not send mail: callers hand [Signer.Sign]
// a complete RFC 5322 message with CRLF line endings and write the returned
// header fields in front of it. Key rotation policy, DNS publication and the
// decision which keys sign which domain belong to the callers.
//
// # Signing profile
//
// Every signature uses relaxed/relaxed canonicalization and SHA-256, carries
// t= and never l=. The signed header fields are From, To, Subject, Date,
// Message-ID, MIME-Version and Content-Type, plus List-Unsubscribe,
// List-Unsubscribe-Post, Cc, Reply-To, In-Reply-To and References when the
// message has them. Each name appears in h= once more than the message
// carries it (oversigning), so a copy of the field added in transit breaks
// the signature instead of riding along unsigned.
//
// The header fields are hashed and the signature is formatted here rather
// than by go-msgauth's signer, for three reasons: go-msgauth stamps t= from
// the wall clock with no way to pass a time, which rules out reproducible
// output; it writes h= as one unbroken run that cannot be folded afterwards
// without changing what was signed; and it canonicalizes the body once per
// key through a pipe and a goroutine, where dual signing needs it once. The
// output is checked in the tests against go-msgauth's verifier, against an
// independent verifier in internal/dkimtest and, where installed, dkimpy.
//
// # Key storage
//
// [Keystore] keeps one PKCS#8 PEM file per key in a directory only its owner
// may enter, refuses key files that others could read, writes atomically and
// never replaces a key unless asked to with [Keystore.Replace].
package dkim
