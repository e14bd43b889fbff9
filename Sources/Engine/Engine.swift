// Placeholder so the target builds before the engine work lands; replaced by the engine work.
