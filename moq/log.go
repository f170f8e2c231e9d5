package moq

import (
	"log/slog"
	"os"
)

// defaultLogger writes errors only, to stderr.
var defaultLogger = slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelError}))
