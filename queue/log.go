package queue

import (
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
