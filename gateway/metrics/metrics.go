// Package metrics declares the gateway's Prometheus metrics. Every label
// value comes from a small fixed set (a route pattern, a status word, a
// value-free reason token), never from a request's content: no address,
// template data, token or payload can reach a metric.
package metrics

import (
	"net/http"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// Metrics holds the collectors. The zero value is not usable; use New.
type Metrics struct {
	registry *prometheus.Registry

	requests *prometheus.HistogramVec
	accepted *prometheus.CounterVec
	attempts *prometheus.CounterVec
	portal   *prometheus.CounterVec
}

// New registers the gateway's metrics (and Go runtime metrics) in a
// registry of their own.
func New() *Metrics {
	m := &Metrics{registry: prometheus.NewRegistry()}
	m.requests = prometheus.NewHistogramVec(prometheus.HistogramOpts{
		Name:    "sealpost_http_request_duration_seconds",
		Help:    "HTTP requests by route pattern and status code.",
		Buckets: []float64{.001, .0025, .005, .01, .02, .05, .1, .25, .5, 1, 2.5},
	}, []string{"route", "code"})
	m.accepted = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "sealpost_messages_accepted_total",
		Help: "Messages accepted (202), by category and whether a sensitive payload was sealed.",
	}, []string{"category", "sensitive"})
	m.attempts = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "sealpost_delivery_attempts_total",
		Help: "Delivery attempts by outcome (sent, deferred, failed) and reply class.",
	}, []string{"outcome", "reply_class"})
	m.portal = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "sealpost_portal_events_total",
		Help: "Portal events: view, code_sent, verify_failed, verified, locked.",
	}, []string{"kind"})
	m.registry.MustRegister(
		m.requests,
		m.accepted,
		m.attempts,
		m.portal,
		collectors.NewGoCollector(),
		collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}),
	)
	return m
}

// Handler serves the metrics in Prometheus' text format.
func (m *Metrics) Handler() http.Handler {
	return promhttp.HandlerFor(m.registry, promhttp.HandlerOpts{})
}

// Request records one HTTP request.
func (m *Metrics) Request(route string, code int, d time.Duration) {
	if m == nil {
		return
	}
	m.requests.WithLabelValues(route, statusText(code)).Observe(d.Seconds())
}

// Accepted records an accepted message.
func (m *Metrics) Accepted(category string, sensitive bool) {
	if m == nil {
		return
	}
	s := "false"
	if sensitive {
		s = "true"
	}
	m.accepted.WithLabelValues(category, s).Inc()
}

// Attempt records a delivery attempt's outcome; replyCode 0 means none.
func (m *Metrics) Attempt(outcome string, replyCode int) {
	if m == nil {
		return
	}
	class := "none"
	switch {
	case replyCode >= 200 && replyCode < 300:
		class = "2xx"
	case replyCode >= 400 && replyCode < 500:
		class = "4xx"
	case replyCode >= 500 && replyCode < 600:
		class = "5xx"
	}
	m.attempts.WithLabelValues(outcome, class).Inc()
}

// Portal records a portal event.
func (m *Metrics) Portal(kind string) {
	if m == nil {
		return
	}
	m.portal.WithLabelValues(kind).Inc()
}

func statusText(code int) string { return itoa(code) }

func itoa(n int) string {
	if n < 0 || n > 999 {
		return "other"
	}
	return string([]byte{byte('0' + n/100), byte('0' + n/10%10), byte('0' + n%10)})
}
