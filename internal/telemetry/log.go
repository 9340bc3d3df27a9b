package telemetry

import (
	"fmt"
	"io"
	"log/slog"
)

// NewLogger returns a structured logger writing to w at level ("debug",
// "info", "warn", "error") in format ("text" or "json"). There is no global
// logger: components receive child loggers (logger.With("component", ...)).
func NewLogger(w io.Writer, level, format string) (*slog.Logger, error) {
	var lv slog.Level
	if err := lv.UnmarshalText([]byte(level)); err != nil {
		return nil, fmt.Errorf("telemetry: log level %q: %w", level, err)
	}
	opts := &slog.HandlerOptions{Level: lv}
	switch format {
	case "text":
		return slog.New(slog.NewTextHandler(w, opts)), nil
	case "json":
		return slog.New(slog.NewJSONHandler(w, opts)), nil
	}
	return nil, fmt.Errorf("telemetry: log format %q: want text or json", format)
}
