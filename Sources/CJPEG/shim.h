// jpeglib.h needs stdio.h (FILE) declared first.
#include <stdio.h>
#include <jpeglib.h>
