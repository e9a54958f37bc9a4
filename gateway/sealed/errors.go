package sealed

import "errors"

// Errors returned by this package. None of them, nor any error wrapping them
// here, carries key material, plaintext, tokens, codes or answers.
var (
	// ErrKeyFileMode means a keyring file may be read or written by its
	// group or by others.
	ErrKeyFileMode = errors.New("keyring file is accessible to group or others")

	// ErrKeyringFormat means a keyring file does not follow the format
	// described in the package documentation.
	ErrKeyringFormat = errors.New("malformed keyring file")

	// ErrEmptyKeyring means a keyring file holds no key.
	ErrEmptyKeyring = errors.New("keyring holds no key")

	// ErrUnknownKey means a wrapped data key names a key-encryption key
	// that the keyring does not hold.
	ErrUnknownKey = errors.New("unknown key-encryption key")

	// ErrUnwrap means a wrapped data key failed authentication: it was
	// altered, or it belongs to another key id.
	ErrUnwrap = errors.New("wrapped data key does not open")

	// ErrMalformed means a sealed payload is structurally invalid (missing
	// fields or wrong lengths).
	ErrMalformed = errors.New("malformed sealed payload")

	// ErrOpen means a sealed payload failed authentication: the ciphertext
	// or nonce was altered, or it was opened for another message.
	ErrOpen = errors.New("sealed payload does not open")

	// ErrWeakSecret means a server secret for one-time codes is shorter
	// than CodeSecretSize.
	ErrWeakSecret = errors.New("code secret too short")

	// ErrEmptyAnswer means a knowledge-check answer is empty once
	// normalised.
	ErrEmptyAnswer = errors.New("empty knowledge answer")

	// ErrKnowledgeFormat means a stored knowledge hash cannot be parsed or
	// names parameters outside the accepted bounds.
	ErrKnowledgeFormat = errors.New("malformed knowledge hash")
)
