package queue

import (
	"context"
	"log/slog"

	"github.com/sealpost/sealpost/gateway/store"
)

func attr(key string, v any) slog.Attr { return slog.Any(key, v) }

func slogMessage(m *store.Message) slog.Attr { return slog.Any("message", m) }

func levelFor(s store.Status) slog.Level {
	switch s {
	case store.StatusSent:
		return slog.LevelInfo
	case store.StatusDeferred:
		return slog.LevelWarn
	default:
		return slog.LevelError
	}
}

// minLevel drops records below a level. River reports routine progress at
// Info; the gateway shows it only when debugging.
type minLevel struct {
	slog.Handler
	min slog.Level
}

func (h minLevel) Enabled(ctx context.Context, l slog.Level) bool {
	return l >= h.min && h.Handler.Enabled(ctx, l)
}

func (h minLevel) WithAttrs(attrs []slog.Attr) slog.Handler {
	return minLevel{h.Handler.WithAttrs(attrs), h.min}
}

func (h minLevel) WithGroup(name string) slog.Handler {
	return minLevel{h.Handler.WithGroup(name), h.min}
}

// riverLogger passes River's Info lines through only when the gateway logs
// at debug level.
func riverLogger(l *slog.Logger) *slog.Logger {
	floor := slog.LevelWarn
	if l.Enabled(context.Background(), slog.LevelDebug) {
		floor = slog.LevelDebug
	}
	return slog.New(minLevel{l.Handler(), floor}).With("component", "river")
}
