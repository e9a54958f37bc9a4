// Package phi finds health information and health identifiers in text, so
// that Sealpost can refuse a template or a message value that would carry
// them into an email.
//
// A [Linter] combines two kinds of rules:
//
//   - a lexicon of conditions, medications, drug classes, procedures, lab
//     tests, specialties and devices, shipped as text files under lexicon/
//     and embedded in the binary;
//   - pattern rules for identifiers: ICD-10 and NDC code shapes, SSNs, and
//     medical record numbers, member, plan and policy ids, dates of birth
//     and dates of service when a label introduces them.
//
// It does not decide what to do with a finding; package templates turns
// findings into problems. A [Finding] gives the rule and byte offsets, never
// the matched text, so it can be returned to a client or logged.
//
// # Matching
//
// Text is split once into words (ASCII letters and digits and non-ASCII
// letters); everything else separates words. Terms are looked up word by
// word in a trie keyed by lower-cased words, taking the longest match, so a
// term never matches inside another word ("hiv" does not match "archive").
// The words of a multi-word term may be separated by spaces, line breaks,
// hyphens, slashes or apostrophes, but not by sentence punctuation.
//
// Lexicon files hold one term a line. When the lexicon is built:
//
//   - a term written with capital letters matches only when written with the
//     same capitals: "AIDS" is a condition but "aids" is an ordinary word
//     (hearing aids are matched as a device by their own term);
//   - the last word gets its plural ("kidney stones", "lancets");
//   - a hyphenated term also matches written as one word ("a-fib", "afib");
//     hyphen and space are interchangeable anyway;
//   - "crohn's" also matches "crohns" and "Crohn's" with a typographic
//     apostrophe;
//   - British spellings fold to American ones on both sides ("anaemia",
//     "oesophagus", "tumour", "centre").
//
// Words that are ambiguous in shop mail are left out or guarded: "ms",
// "ed", "ra", "tb" and "prep" are not terms; "lithium" is a medication but
// "lithium battery" is allowed; "stroke" is a condition but "brush stroke"
// is allowed (see lexicon/allow.txt); "cancer" always matches, because the
// zodiac sign is rare in transactional mail and failing closed is the
// point. The word "prescription" on its own is not a finding, so "your
// prescription order is ready" passes, but "prescription for" and any
// named drug do not.
package phi
