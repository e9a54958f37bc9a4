package dkim

import "errors"

var (
	// ErrUnknownAlgorithm is returned for a key algorithm other than rsa or
	// ed25519.
	ErrUnknownAlgorithm = errors.New("unknown key algorithm")

	// ErrInvalidDomain is returned for a signing domain that is not a valid
	// DNS name.
	ErrInvalidDomain = errors.New("invalid signing domain")

	// ErrInvalidSelector is returned for a selector that is not a valid
	// sequence of DNS labels (RFC 6376 section 3.1).
	ErrInvalidSelector = errors.New("invalid selector")

	// ErrKeyTooSmall is returned for an RSA key shorter than MinRSABits.
	ErrKeyTooSmall = errors.New("rsa key too small")

	// ErrKeyMismatch is returned when a key's Algorithm does not match the
	// type of its Signer.
	ErrKeyMismatch = errors.New("key algorithm does not match signer")

	// ErrKeyExists is returned by Keystore.Save when a key for the same
	// domain and selector is already stored.
	ErrKeyExists = errors.New("key already exists")

	// ErrKeyNotFound is returned when no key is stored for a domain and
	// selector.
	ErrKeyNotFound = errors.New("key not found")

	// ErrKeyFileMode is returned when a key file can be read by its group or
	// by others.
	ErrKeyFileMode = errors.New("key file readable by group or others")

	// ErrKeyDirMode is returned when the key directory can be written by its
	// group or by others.
	ErrKeyDirMode = errors.New("key directory writable by group or others")

	// ErrKeyFileInvalid is returned when a key file does not hold one PKCS#8
	// private key of a supported type.
	ErrKeyFileInvalid = errors.New("invalid key file")

	// ErrNoKeys is returned by NewSigner when it is given no key.
	ErrNoKeys = errors.New("no signing keys")

	// ErrDuplicateKey is returned by NewSigner when two keys share a domain
	// and selector.
	ErrDuplicateKey = errors.New("duplicate signing key")

	// ErrMalformedMessage is returned by Sign for input that is not an RFC
	// 5322 message with CRLF line endings.
	ErrMalformedMessage = errors.New("malformed message")

	// ErrBareLineBreak is returned by Sign when the message holds a CR or LF
	// that is not part of a CRLF pair; a relay would rewrite it and break
	// the signature (and it is the raw material of SMTP smuggling).
	ErrBareLineBreak = errors.New("bare CR or LF in message")

	// ErrNoFrom is returned by Sign when the message has no From field, which
	// RFC 6376 section 5.4 requires to be signed.
	ErrNoFrom = errors.New("message has no From field")
)
