package phi

import "errors"

// ErrLexicon means a lexicon file could not be read or holds a bad line.
var ErrLexicon = errors.New("invalid lexicon")
