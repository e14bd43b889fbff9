// C shims for terminal ioctls (variadic ioctl is not callable from Swift).
#pragma once
int cterminal_placeholder(void);
