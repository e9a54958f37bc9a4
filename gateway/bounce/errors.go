package bounce

import "errors"

var (
	// ErrNotReport means the input is neither a delivery status
	// notification, a feedback report nor a bounce the heuristics
	// recognise.
	ErrNotReport = errors.New("not a bounce or feedback report")

	// ErrWrongReportType means a multipart/report carries another
	// report-type than the parser handles.
	ErrWrongReportType = errors.New("wrong report type")

	// ErrMalformed means the input claims to be a report but its structure
	// is broken: no status part, no usable recipient fields, bad MIME.
	ErrMalformed = errors.New("malformed report")

	// ErrTooLarge means the input exceeds MaxReportBytes.
	ErrTooLarge = errors.New("report too large")

	// ErrInvalidEvent means a JSON event failed validation.
	ErrInvalidEvent = errors.New("invalid event")

	// ErrInvalidVERP means a VERP configuration is unusable: no domain,
	// a prefix that is not a plain local part, or a short secret.
	ErrInvalidVERP = errors.New("invalid verp configuration")

	// ErrNoHandler means NewServer got a nil callback.
	ErrNoHandler = errors.New("report handler required")
)
