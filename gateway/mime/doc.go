// Package mime builds the RFC 5322 bytes of an outbound message: the header
// block and a quoted-printable text/plain body, or a multipart/alternative
// of text/plain then text/html.
//
// It owns the wire form of a message and nothing else: it does not render
// templates, sanitise HTML, sign (see the dkim package) or send. Its output
// is meant to go into SMTP DATA unchanged and to survive relays unchanged,
// so that a DKIM signature made over it still verifies on arrival.
//
// # What the output guarantees
//
//   - 7-bit ASCII, CRLF line ends only: a bare CR or LF in Text or HTML
//     becomes CRLF, so no bare CR or LF reaches the DATA stream (an SMTP
//     smuggling vector; RFC 5321 §2.3.8).
//   - No line starts with ".". Quoted-printable encodes a leading dot as
//     "=2E", and headers, folded lines and boundary lines never start with
//     one. So no body text, whatever its newlines, can form the
//     end-of-data line "." — the encoding protects it, and the SMTP
//     client's dot-stuffing has nothing left to do.
//   - No line over 998 octets (RFC 5322 §2.1.1). Quoted-printable lines are
//     at most 76 characters (RFC 2045 §6.7) and never split an "=XX"
//     triplet; header fields are folded to 78 octets where the content
//     allows.
//   - Decoding gives back the input: quoted-printable decodes to Text and
//     HTML with every newline made CRLF, and the unfolded header fields
//     decode (RFC 2047) to exactly the subject and display names given.
//
// # Headers
//
// Non-ASCII subjects and display names become RFC 2047 encoded words in
// UTF-8, each at most 75 characters, Q or B per word (whichever carries more
// text), never splitting a character. So does any subject or name containing
// "=?", so that text that merely looks like an encoded word reaches the
// reader literally. Text whose encoded words would decode to a control
// character is refused outright.
//
// A CR, LF or NUL in any header input is an error matching
// [ErrHeaderInjection]; it is never stripped. Extra headers may not reuse
// the names the package writes itself or that only relays and signers add.
//
// The multipart boundary starts with "=_", a sequence quoted-printable
// output cannot contain, so no part can hold a delimiter line.
package mime
