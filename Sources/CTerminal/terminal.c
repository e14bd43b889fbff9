#define _GNU_SOURCE
#include "CTerminal.h"
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pty.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/wait.h>
#include <termios.h>
#include <time.h>
#include <unistd.h>

int cterminal_get_winsize(int fd, cterminal_winsize *out) {
    struct winsize ws;
    if (ioctl(fd, TIOCGWINSZ, &ws) != 0) return -1;
    out->rows = ws.ws_row; out->cols = ws.ws_col; out->xpixel = ws.ws_xpixel; out->ypixel = ws.ws_ypixel;
    return 0;
}

static long now_ms(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec * 1000L + ts.tv_nsec / 1000000L;
}

int cterminal_query(int in_fd, int out_fd, const char *query, char terminator,
                    char *reply, int capacity, int timeout_ms) {
    struct termios saved, raw;
    if (!isatty(in_fd) || tcgetattr(in_fd, &saved) != 0) return -1;
    raw = saved;
    cfmakeraw(&raw);
    raw.c_cc[VMIN] = 0; raw.c_cc[VTIME] = 0;
    tcsetattr(in_fd, TCSANOW, &raw);
    size_t len = strlen(query);
    ssize_t w = write(out_fd, query, len);
    (void)w;
    int got = 0;
    long deadline = now_ms() + timeout_ms;
    while (got < capacity) {
        long left = deadline - now_ms();
        if (left <= 0) break;
        struct pollfd p = { in_fd, POLLIN, 0 };
        int r = poll(&p, 1, (int)left);
        if (r <= 0) break;
        ssize_t n = read(in_fd, reply + got, (size_t)(capacity - got));
        if (n <= 0) break;
        int done = 0;
        for (ssize_t i = 0; i < n; i++) if (reply[got + i] == terminator) done = 1;
        got += (int)n;
        if (done) break;
    }
    tcsetattr(in_fd, TCSANOW, &saved);
    return got;
}

#include <wchar.h>
int cterminal_wcwidth(unsigned int codepoint) { return wcwidth((wchar_t)codepoint); }
