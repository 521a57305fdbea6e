// SPDX-License-Identifier: LGPL-2.1-or-later
// Umbrella header for libipvsctl.
#pragma once

#include "ipvsctl/client.hpp"
#include "ipvsctl/operation.hpp"
#include "ipvsctl/plan.hpp"
#include "ipvsctl/result.hpp"
#include "ipvsctl/types.hpp"
#include "ipvsctl/version.hpp"
