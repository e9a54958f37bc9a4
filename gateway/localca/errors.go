package localca

import "errors"

var (
	// ErrPartialFiles means only one of the CA certificate and key files
	// exists, so LoadOrCreate refuses to overwrite the other.
	ErrPartialFiles = errors.New("ca certificate and key must both exist or both be absent")

	// ErrInvalidCA means the stored certificate is not a usable CA or does not
	// match the stored key.
	ErrInvalidCA = errors.New("stored ca is invalid")

	// ErrExpired means the stored CA certificate is outside its validity
	// period.
	ErrExpired = errors.New("stored ca certificate expired")

	// ErrNoHosts means a certificate was requested without any host name or
	// IP address.
	ErrNoHosts = errors.New("no hosts given")

	// ErrInvalidValidity means NotAfter does not come after NotBefore.
	ErrInvalidValidity = errors.New("not after must follow not before")
)
