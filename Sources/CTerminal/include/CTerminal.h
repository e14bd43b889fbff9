// C shims for terminal ioctls, raw-mode queries and pseudo-terminals
// (variadic ioctl and fork are not callable from Swift).
#pragma once
#include <sys/types.h>

typedef struct {
    int rows;
    int cols;
    int xpixel;
    int ypixel;
} cterminal_winsize;

/// TIOCGWINSZ on fd. Returns 0 on success, -1 on error.
int cterminal_get_winsize(int fd, cterminal_winsize *out);
/// Puts the tty `in_fd` in raw mode, writes `query` to `out_fd`, and reads the reply until the byte
/// `terminator` arrives or `timeout_ms` passes without it. Restores the tty mode. Returns the number of bytes
/// read (0 on timeout with nothing read), or -1 if in_fd is not a tty.
int cterminal_query(int in_fd, int out_fd, const char *query, char terminator,
                    char *reply, int capacity, int timeout_ms);

/// Display width of a code point in columns (wcwidth; -1 for non-printables).
int cterminal_wcwidth(unsigned int codepoint);
