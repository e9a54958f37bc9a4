// Package sealed holds the cryptography and secret handling behind the
// portal: it encrypts sensitive payloads, makes the tokens of portal links
// and one-time codes, and hashes knowledge-check answers. It owns no storage,
// no HTTP and no policy (expiry, attempt limits); the portal and the store
// build on it.
//
// # Envelope encryption
//
// Every sensitive payload gets its own random 256-bit data key. Seal encrypts
// the payload with AES-256-GCM under that key, with a random 96-bit nonce and
// the message id as associated data, so a ciphertext moved to another
// message's row does not open. The data key is then wrapped by a
// KeyEncrypter under a key-encryption key, and only the wrapped form is kept:
//
//	Sealed{KeyID, WrappedKey, Nonce, Ciphertext}
//
// Rotating the key-encryption key never touches payloads: Rewrap unwraps the
// data key with the old key and wraps it with the current one. Once every
// Sealed names the new key, the old one can be dropped from the keyring, and
// a copy of the database taken before rotation is useless without it.
//
// # The local keyring
//
// LocalKeyring is a KeyEncrypter whose master keys live in a file
// (SEALPOST_MASTER_KEY_FILE). The file is text, one key a line:
//
//	# comment lines and blank lines are ignored
//	mk-20260301-3fa91c q0Jc…base64 of 32 bytes…=
//	mk-20260901-0b77de 1xTa…base64 of 32 bytes…=
//
// An id is 1–64 characters of [A-Za-z0-9._-]; generated ids read
// mk-<UTC date>-<6 random hex digits>. The last line is the current key.
// The file must be mode 0600 or stricter: LoadKeyring refuses a file its group
// or others may read or write. GenerateKeyringFile creates one with a single
// key and never replaces an existing file; AddKey appends a new current key
// by writing a complete new file beside the old and renaming it over.
//
// A data key is wrapped with AES-256-GCM under the master key, a random
// 96-bit nonce, and the key id as associated data: wrapped = nonce ||
// ciphertext || tag, 60 bytes for a 32-byte data key. GCM was chosen over AES
// key wrap (RFC 5649) because the standard library provides it, it is the
// same primitive as the payload layer, and it binds the key id. With random
// nonces one master key stays within GCM's limits for about 2^32 wraps,
// far more than a key sees before it is rotated.
//
// Key material never leaves this package in text: types holding it print and
// log as a redacted summary (id and count), and no error carries it.
//
// # Portal link tokens
//
// NewToken returns 256 random bits as 43 characters of unpadded URL-safe
// base64 and their SHA-256, which is what the store keeps. The token cannot be
// guessed, so a fast hash suffices. EqualHash compares hashes in constant
// time.
//
// # One-time codes
//
// NewCode returns CodeDigits (6) decimal digits drawn uniformly by rejection
// sampling from 32-bit random words, so no code is likelier than another. A
// million codes are brute-forced from a plain hash at once, so the stored
// form is HMAC-SHA256 under a server secret (at least CodeSecretSize bytes,
// kept outside the database) of the code bound to its link's token: a code
// issued for one link never verifies for another. The portal must still limit
// attempts and expire codes; six digits are only safe that way.
//
// # Knowledge checks
//
// Answers to knowledge checks (date of birth, ZIP code) are normalised (see
// NormalizeKnowledge) and stored only as argon2id hashes with their
// parameters and salt, in the usual $argon2id$v=19$m=…,t=…,p=…$salt$hash form.
// The parameters (46 MiB, one pass, one lane) cost about 35 ms a hash on a
// two-core machine; each verification holds that much memory, so the portal
// should bound concurrent checks.
package sealed
