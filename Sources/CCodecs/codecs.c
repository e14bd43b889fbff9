#include "CCodecs.h"
int ccodecs_placeholder(void) { return 0; }
