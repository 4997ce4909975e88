/* SPDX-License-Identifier: MIT */
#pragma once

#include <json-c/json.h>

#include "basic/macro.h"

/* json-c objects and tokeners as _cleanup_ variables: a reference held by a variable
 * declared _cleanup_json_ is dropped when it goes out of scope; TAKE_PTR() hands it over. */

static inline void json_object_putp(json_object **o)
{
	json_object_put(*o);
}
#define _cleanup_json_ _cleanup_(json_object_putp)

DEFINE_TRIVIAL_CLEANUP_FUNC(json_tokener *, json_tokener_free)
