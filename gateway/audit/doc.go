// Package audit keeps Sealpost's audit log: who did what to which object,
// when and from where, as a hash chain that shows any later change. It
// appends events (inside the caller's transaction, so an audited change and
// its event commit together), verifies the chain, exports it for outside
// checking, and writes chain heads to files so that a cut-off tail is
// noticed too. It does not decide which actions are audited; callers do.
//
// # What an event may hold
//
// Events hold identifiers only: key ids, user ids, message ids, template
// names, counts. Callers never pass addresses, names, template data or
// message content, in any field or in Details; the log is kept for years
// and exported to people who must not see PHI. RemoteAddr arrives already
// truncated by the caller.
//
// # The chain
//
// Events are numbered by seq, 1, 2, 3, … with no gaps; seq is the chain's
// order (times may repeat or step back between processes). Each event
// stores prev_hash, the hash of the event before it (32 zero bytes for seq
// 1), and its own hash:
//
//	hash = SHA-256(F("sealpost-audit-v1") || F(seq) || F(id) || F(at) ||
//	               F(actor) || F(action) || F(object_type) || F(object_id) ||
//	               F(remote_addr) || F(details) || F(prev_hash))
//
// where F(x) is the length of x in bytes as a 4-byte big-endian unsigned
// integer followed by the bytes of x, and
//
//   - seq is written in decimal ASCII without leading zeros ("42");
//   - at is the time in UTC with exactly six fraction digits,
//     "2006-01-02T15:04:05.000000Z" (times are kept to the microsecond);
//   - details is the JSON object text exactly as stored and exported (Go
//     writes it with sorted keys, but a verifier hashes the bytes it is given
//     and never re-encodes them);
//   - prev_hash is the 32 raw bytes, not hex;
//   - every other field is its UTF-8 text, possibly empty.
//
// Verify walks the chain in seq order and reports the first seq at which
// it breaks: a missing or out-of-place seq (a row deleted, inserted or
// moved), a prev_hash that is not the previous event's hash, or a hash that
// does not match the event's fields (a row edited). A one-row head table
// records the newest seq and hash, and an exported head file (WriteHead)
// records them outside the database: a chain that no longer reaches either
// has lost its tail. Anyone who can write the database can rebuild the
// whole chain after a forged row; a head file kept elsewhere is what shows
// that.
//
// # Exports
//
// Export writes events with every hashed field in the form above and both
// hashes in lowercase hex, as NDJSON (one JSON object per line, keys seq,
// id, at, actor, action, object_type, object_id, remote_addr, details,
// prev_hash, hash; details as a JSON string) or as CSV with a header row of
// the same names. VerifyExport checks an NDJSON export without the
// database.
package audit
