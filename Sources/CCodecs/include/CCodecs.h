// C shims around libjpeg/libpng: their error handling uses setjmp/longjmp, which Swift cannot do.
#pragma once
int ccodecs_placeholder(void);
