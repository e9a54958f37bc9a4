// Package httpsec sets the response headers every HTML page the gateway
// serves to recipients (portal, unsubscribe, confirmation) must carry:
// nothing cached, nothing framed, no referrer that could leak a link's
// token, no script or remote content.
package httpsec

import "net/http"

// CSP allows the page's own forms and nothing else.
const CSP = "default-src 'none'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'"

// Pages wraps next so that every response carries the page headers.
func Pages(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h := w.Header()
		h.Set("Cache-Control", "no-store")
		h.Set("Pragma", "no-cache")
		h.Set("Referrer-Policy", "no-referrer")
		h.Set("X-Content-Type-Options", "nosniff")
		h.Set("X-Frame-Options", "DENY")
		h.Set("Content-Security-Policy", CSP)
		next.ServeHTTP(w, r)
	})
}
