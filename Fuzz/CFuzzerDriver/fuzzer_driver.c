// The declaration in fuzzer_driver.h is the whole of this module; a C target needs a source file.
#include "fuzzer_driver.h"
