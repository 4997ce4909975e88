/* SPDX-License-Identifier: MIT */
#pragma once

/* _cleanup_free_, _cleanup_close_, _cleanup_fclose_, TAKE_PTR, TAKE_FD, ELEMENTSOF: one
 * definition for the whole tree, in the lowest layer (hw/hw-macro.h). */
#include "hw-macro.h"
