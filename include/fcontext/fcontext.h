/* libfcontext (deboost.context) spelling: #include <fcontext/fcontext.h>. */
#include "../fcontext.h"
