// Placeholder so the target builds before the TUI work lands; replaced by the TUI work.
