package replication

import (
	"bytes"
	"context"
	"encoding/json"
	"log/slog"
	"strings"

	"github.com/hashicorp/go-hclog"
)

// newHCLogger bridges hashicorp's hclog (used by raft and raft-wal) into
// slog: hclog writes JSON lines to a writer that re-logs each through log,
// keeping level, message and fields.
func newHCLogger(name string, log *slog.Logger) hclog.Logger {
	level := hclog.Info
	if log.Enabled(context.Background(), slog.LevelDebug) {
		level = hclog.Debug
	}
	return hclog.New(&hclog.LoggerOptions{
		Name:       name,
		Level:      level,
		JSONFormat: true,
		Output:     slogWriter{log},
	})
}

type slogWriter struct{ log *slog.Logger }

func (w slogWriter) Write(p []byte) (int, error) {
	for _, line := range bytes.Split(bytes.TrimSpace(p), []byte("\n")) {
		var m map[string]any
		if err := json.Unmarshal(line, &m); err != nil {
			w.log.Info(string(line))
			continue
		}
		lvl := slog.LevelInfo
		switch m["@level"] {
		case "trace", "debug":
			lvl = slog.LevelDebug
		case "warn":
			lvl = slog.LevelWarn
		case "error":
			lvl = slog.LevelError
		}
		msg, _ := m["@message"].(string)
		attrs := make([]any, 0, 2*len(m))
		for k, v := range m {
			if strings.HasPrefix(k, "@") {
				continue
			}
			attrs = append(attrs, strings.ReplaceAll(k, "-", "_"), v)
		}
		w.log.Log(context.Background(), lvl, msg, attrs...)
	}
	return len(p), nil
}
